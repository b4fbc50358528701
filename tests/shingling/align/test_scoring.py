"""shingling.align.scoring: all pairs scored in blocks, only those that matter kept."""

from __future__ import annotations

import numpy as np
import pytest

from shingling.align import AlignParams, scoring
from shingling.align.scoring import Scores, score, top_per_row
from shingling.align.sides import Side
from shingling.sentences import split_sentences

A = (
    "Blinken said 10,000 North Korean soldiers are in Russia. "
    "Oil prices fell on rising supply from the Gulf. "
    "The minister arrived in Seoul on Monday for two days of talks."
)
B = (
    "The minister arrived in Seoul on Monday for two days of talks. "
    "Stock markets in Europe closed higher on Friday. "
    "Blinken said 10,000 North Korean soldiers are in Russia."
)


def side(text: str) -> Side:
    return Side.of(text, tuple(split_sentences(text)))


def test_top_per_row_keeps_the_largest_keys() -> None:
    mask = np.array([[True, True, True], [True, False, False]])
    key = np.array([[0.1, 0.9, 0.5], [0.0, 1.0, 1.0]])
    assert top_per_row(mask, key, 2).tolist() == [[False, True, True], [True, False, False]]
    assert top_per_row(mask, key, 3) is mask


def test_copies_are_kept_and_unrelated_pairs_dropped() -> None:
    s = score(side(A), side(B), AlignParams())
    ok = {(i, j) for i, j, o in zip(s.i.tolist(), s.j.tolist(), s.ok.tolist(), strict=True) if o}
    assert ok == {(0, 2), (2, 0)}
    assert s.best_a.shape == (3,) and s.best_b.shape == (3,)
    assert s.best_a[0] > 0.9 and s.best_a[1] < 0.5 and s.best_b[1] < 0.5
    assert s.by_pair(s.prob)[0, 2] == s.best_a[0]
    assert s.by_pair(s.cont_b, b_first=True)[2, 0] == pytest.approx(1.0)


def test_block_size_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = score(side(A), side(B), AlignParams())
    monkeypatch.setattr(scoring, "PAIRS_PER_BLOCK", 1)
    blocks = score(side(A), side(B), AlignParams())
    for name in ("i", "j", "ok"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(blocks, name), name)
    for name in ("prob", "cont_a", "cont_b", "best_a", "best_b"):  # up to rounding
        np.testing.assert_allclose(getattr(whole, name), getattr(blocks, name), rtol=1e-12)


def test_empty_scores_keep_no_pair() -> None:
    s = Scores.empty(2, 0)
    assert len(s.i) == len(s.prob) == 0 and s.best_a.tolist() == [0.0, 0.0]
    assert s.by_pair(s.prob) == {}
