"""shingling.rewrites: reworded copies linked by the aligner, same-topic reports not."""

from __future__ import annotations

import re

import numpy as np
import pytest

from shingling import PipelineConfig, Thresholds, analyse, compare
from shingling.align import AlignParams
from shingling.families import ShingleVerifier, cluster_signatures
from shingling.rewrites import MAX_SENTENCES, RewriteVerifier, judge, reused_share
from shingling.score import Verdict
from tests.conftest import reword

CONFIG = PipelineConfig()


def _verifier(texts: list[str], **kw: object) -> RewriteVerifier:
    analyses = [analyse(t, CONFIG) for t in texts]
    exact = ShingleVerifier(lambda rows: [analyses[r].shingles for r in rows], Thresholds())
    return RewriteVerifier(
        exact, lambda rows: [texts[r] for r in rows], Thresholds(), AlignParams(), **kw
    )  # type: ignore[arg-type]


def test_a_reworded_copy_is_partial_by_shingles(seed_texts: dict[str, str]) -> None:
    s = compare(
        analyse(seed_texts["000"], CONFIG).shingles,
        analyse(reword(seed_texts["000"]), CONFIG).shingles,
    )
    assert s.verdict(Thresholds()) == Verdict.PARTIAL  # what the shingle rule leaves apart


def test_reused_share_of_a_reworded_copy_and_of_an_independent_report(
    seed_texts: dict[str, str],
) -> None:
    share, is_copy = reused_share(seed_texts["000"], reword(seed_texts["000"]), AlignParams())
    assert is_copy and share == 1.0
    share, is_copy = reused_share(seed_texts["000"], seed_texts["002"], AlignParams())
    assert not is_copy and share < 0.3


def test_the_verifier_links_the_rewrite_and_counts_what_it_did(seed_texts: dict[str, str]) -> None:
    texts = [seed_texts["000"], reword(seed_texts["000"]), seed_texts["002"], seed_texts["001"]]
    v = _verifier(texts)
    linked = v(np.array([0, 0, 0]), np.array([1, 2, 3]))
    assert linked.tolist() == [True, False, True]  # 0-3 is syndicated by its shingles
    assert v.stats.aligned == 1 and v.stats.linked == 1  # 0-2 shares too little to align


def test_a_copy_of_a_few_sentences_in_a_long_page_does_not_link(
    seed_texts: dict[str, str],
) -> None:
    own = seed_texts["002"][: seed_texts["002"].index("No time to read?", 100)]  # no chrome tail
    sentences = re.split(r"(?<=\.)\s+", seed_texts["000"])
    taken = reword(" ".join(sentences[:4]))  # reworded, in a page of its own
    v = _verifier([seed_texts["000"], own + "\n\n" + taken + "\n\n" + seed_texts["003"]])
    assert v(np.array([0]), np.array([1])).tolist() == [False]
    assert v.stats.aligned == 1  # aligned and found reused, but far under 30 % of the page


def test_budget_and_length_limits_leave_pairs_apart(seed_texts: dict[str, str]) -> None:
    texts = [seed_texts["000"], reword(seed_texts["000"])]
    v = _verifier(texts, max_pairs=0)
    assert v(np.array([0]), np.array([1])).tolist() == [False]
    assert v.stats.over_budget == 1 and v.stats.aligned == 0
    long = " ".join(f"Sentence number {i} is here." for i in range(MAX_SENTENCES + 1))
    v = _verifier([long, reword(long)])
    assert v(np.array([0]), np.array([1])).tolist() == [False]
    assert v.stats.too_long == 1


@pytest.mark.parametrize("rewrites", [False, True])
def test_clustering_the_seeds_with_a_rewrite(seed_texts: dict[str, str], rewrites: bool) -> None:
    names = sorted(seed_texts)
    texts = [seed_texts[n] for n in names] + [reword(seed_texts["000"])]
    ids = names + ["000-reworded"]
    analyses = [analyse(t, CONFIG) for t in texts]
    exact = ShingleVerifier(lambda rows: [analyses[r].shingles for r in rows], Thresholds())
    verifier = _verifier(texts) if rewrites else exact
    result = cluster_signatures(
        np.stack([a.signature for a in analyses]),
        ids,
        np.full(len(ids), np.nan),
        CONFIG,
        verifier,
        fingerprints=[a.fingerprints for a in analyses],
    )
    families = [set(c.members) for c in result.clusters]
    expected = {"000", "001", "000-reworded"} if rewrites else {"000", "001"}
    assert families == [expected]  # 002-004, independent reports, stay out either way


def test_judge_takes_the_text_of_fewer_sentences_as_the_copy(seed_texts: dict[str, str]) -> None:
    sentences = re.split(r"(?<=\.)\s+", seed_texts["000"])
    short = reword(" ".join(sentences[:8]))
    for a, b, side in ((seed_texts["000"], short, "b"), (short, seed_texts["000"], "a")):
        j = judge(a, b, AlignParams())
        assert j.copy == side and j.linked and j.rewritten is not None
        assert j.reused >= 3 and 0.3 <= j.reused_share <= 1.0
    assert not judge(seed_texts["000"], seed_texts["002"], AlignParams()).linked
    assert not judge(seed_texts["000"], short, AlignParams(), min_share=1.01).linked
