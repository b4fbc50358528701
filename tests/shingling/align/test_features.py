"""shingling.align.features: the pair evidence the model weighs."""

from __future__ import annotations

import numpy as np
import pytest

from shingling.align import FEATURES, feature_names, pair_features
from shingling.align.features import Fitted, items, ratio, tokens_ratio

A = "Blinken said 10,000 North Korean soldiers are in Russia."
B = "Stock markets in Europe closed higher on Friday."


def named(row: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURES, row.tolist(), strict=True))


def test_items_are_tagged_by_kind() -> None:
    got = items("Troops left Kursk in 2024")
    assert "1 troops" in got and "2 troops left" in got and "4 left kursk in 2024" in got
    assert "p troop" in got and "d 2024" in got
    assert not any(x.startswith("5 ") for x in got)


def test_identical_sentences_score_the_top_of_every_share() -> None:
    (f,) = pair_features([A], [A])
    got = named(f)
    for name in ("uni_min", "uni_max", "bi_min", "quad_max", "wcont_min", "num_agree"):
        assert got[name] == pytest.approx(1.0), name
    assert got["word_cos"] == pytest.approx(1.0) and got["char_cos"] == pytest.approx(1.0)
    assert got["unshared_max"] == 0.0 and got["len_ratio"] == 1.0 and got["len_diff"] == 0.0
    assert got["seq_ratio"] == 1.0


def test_unrelated_sentences_share_little() -> None:
    got = named(pair_features([A], [B])[0])
    assert got["uni_max"] < 0.2 and got["bi_max"] == 0.0 and got["seq_ratio"] < 0.2
    assert got["num_agree"] == 0.0  # only one side has a number


def test_features_are_symmetric_and_shaped() -> None:
    ab = pair_features([A, B], [B, A])
    assert ab.shape == (2, len(FEATURES))
    np.testing.assert_allclose(ab[0], ab[1])
    assert pair_features([], []).shape == (0, len(FEATURES))
    with pytest.raises(ValueError, match="same length"):
        pair_features([A], [])


def test_seq_ratio_bound_is_an_upper_bound_of_the_exact_ratio() -> None:
    a = [A, "Troops left the Kursk region on Monday morning."]
    b = [B, "On Monday morning the troops left the Kursk region.", A]
    feats, cont_a, cont_b = Fitted(a, b, (), paired=False).features(slice(None))
    assert feats.shape == (2, 3, len(FEATURES)) and cont_a.shape == cont_b.shape == (2, 3)
    from shingling.tokenise import words

    for i, x in enumerate(a):
        for j, y in enumerate(b):
            assert feats[i, j, -1] >= tokens_ratio(words(x), words(y)) - 1e-12
    assert cont_a[0, 2] == pytest.approx(1.0) and cont_b[0, 2] == pytest.approx(1.0)


def test_semantic_names_keep_seq_ratio_last() -> None:
    names = feature_names(True)
    assert names[: len(FEATURES) - 1] == FEATURES[:-1] and names[-1] == "seq_ratio"
    assert len(names) > len(FEATURES)


def test_ratio_reads_empty_denominators() -> None:
    got = ratio(np.array([1.0, 0.0, 2.0]), np.array([2.0, 0.0, 4.0]), empty=1.0)
    assert got.tolist() == [0.5, 1.0, 0.5]
