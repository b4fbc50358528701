"""Static-embedding features (shingling.semantic) and their use in the aligner."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from shingling import semantic
from shingling.align import AlignParams, feature_names, pair_decision, semantic_params

CRITICISED = "The US Secretary of State sharply criticised Russia over the deployment."
CONDEMNED = (
    "The U.S. Secretary of State issued a strong condemnation of Russia over the deployment."
)
UNRELATED = "Stock markets in Europe closed higher on Friday as energy shares rallied."


def test_weights_load_from_the_wheel_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    semantic._model.cache_clear()
    semantic._unit_table.cache_clear()
    assert semantic._model().embedding.shape[1] == 256
    assert semantic.embed(["hello world"]).tokens.shape[1] == 256


def test_identical_sentences() -> None:
    f = semantic.paired_features([CRITICISED], [CRITICISED])[0]
    named = dict(zip(semantic.SEMANTIC_FEATURES, f, strict=True))
    assert named["emb_cos"] == pytest.approx(1.0, abs=1e-5)
    assert named["soft_min"] == pytest.approx(1.0, abs=1e-5)
    assert named["new_max"] == pytest.approx(0.0, abs=1e-6)


def test_synonyms_are_closer_than_unrelated_words() -> None:
    para, other = semantic.paired_features([CRITICISED, CRITICISED], [CONDEMNED, UNRELATED])
    names = semantic.SEMANTIC_FEATURES
    assert para[names.index("emb_cos")] > other[names.index("emb_cos")] + 0.2
    assert para[names.index("syn_max")] > other[names.index("syn_max")]
    assert para[names.index("new_max")] < other[names.index("new_max")]


def test_block_features_equal_paired_ones() -> None:
    a = [CRITICISED, UNRELATED, "", "Short."]
    b = [CONDEMNED, "Energy shares rallied in Europe on Friday.", "x"]
    ea, eb = semantic.embed(a), semantic.embed(b)
    weights = semantic.idf(ea, eb)
    full = semantic.features(ea, eb, weights)
    assert full.shape == (4, 3, len(semantic.SEMANTIC_FEATURES))
    rows = np.concatenate([semantic.features(ea, eb, weights, slice(k, k + 1)) for k in range(4)])
    np.testing.assert_allclose(full, rows, atol=1e-6)
    for i in range(4):
        for j in range(3):
            one = semantic.features(ea.take(slice(i, i + 1)), eb.take(slice(j, j + 1)), weights)
            np.testing.assert_allclose(full[i, j], one[0, 0], atol=1e-5)


def test_small_token_blocks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    a = [CRITICISED, UNRELATED, CONDEMNED]
    ea, eb = semantic.embed(a), semantic.embed(a[::-1])
    weights = semantic.idf(ea, eb)
    whole = semantic.features(ea, eb, weights)
    monkeypatch.setattr(semantic, "TOKEN_PAIRS_PER_BLOCK", 1)
    np.testing.assert_allclose(semantic.features(ea, eb, weights), whole, atol=1e-6)


def test_shipped_semantic_model_matches_its_features() -> None:
    params = semantic_params()
    assert params.semantic
    assert len(params.weights) == 2 * len(feature_names(True))
    assert feature_names(True)[-1] == "seq_ratio"
    assert not AlignParams().semantic  # the default stays lexical


def test_known_paraphrase_is_same_with_the_semantic_model() -> None:
    decision = pair_decision(CRITICISED, CONDEMNED, semantic_params())
    assert decision.same and not decision.copied
    assert set(decision.features) == set(feature_names(True))
    assert not pair_decision(CRITICISED, UNRELATED, semantic_params()).same


def _seed(name: str) -> str:
    from tests.conftest import SEEDS

    return next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


def test_lexical_setting_never_loads_the_embeddings() -> None:
    from shingling.align import align

    a, b = _seed("000"), _seed("001")
    semantic._model.cache_clear()
    lexical = align(a, b)
    assert semantic._model.cache_info().currsize == 0
    assert lexical == align(a, b, AlignParams(semantic=False))


def test_independent_reports_are_not_made_copies_by_the_semantic_signal() -> None:
    """Seeds 002-004 report the same event as 000/001 independently: with the
    semantic model no sentence of theirs is copied, and a smaller share of
    their sentences is reused than of 001's, the syndicated copy of 000.
    (A few same-claim sentences do come out paraphrased: docs/quality.md.)"""
    from shingling.align import align

    params = semantic_params()

    def reused(a: str, b: str) -> tuple[int, float]:
        r = align(_seed(a), _seed(b), params)
        copied = sum(s.label == "copied" and not s.quote for s in r.b)
        return copied, (r.summary.copied + r.summary.paraphrased) / len(r.b)

    syndicated = reused("000", "001")[1]
    for a in ("000", "001"):
        for b in ("002", "003", "004"):
            copied, share = reused(a, b)
            assert copied == 0, (a, b)
            assert share < syndicated, (a, b, share, syndicated)


@pytest.mark.parametrize("semantic", [False, True])
def test_independent_reports_are_not_rewritten_copies(semantic: bool) -> None:
    """The document-level signal keeps the topic guard: 002-004 (independent
    reports of the event, sharing quotations) are no copy of 000 or 001 in
    either setting, while 001, the syndicated copy of 000, is one."""
    from shingling.align import align, params_for

    params = params_for(semantic)
    assert align(_seed("000"), _seed("001"), params).summary.rewritten is not None
    for a in ("000", "001"):
        for b in ("002", "003", "004"):
            summary = align(_seed(a), _seed(b), params).summary
            assert summary.rewritten is None, (a, b, summary)
