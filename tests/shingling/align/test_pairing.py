"""shingling.align.pairing: one-to-one assignment, orphans and split/merged extras."""

from __future__ import annotations

import numpy as np
import pytest

from shingling.align import AlignParams, pairing
from shingling.align.pairing import assign, orphan_pairs, pair_up, share_in_rest
from shingling.align.scoring import Scores, score
from shingling.align.sides import Side
from shingling.sentences import split_sentences


def scores(pairs: dict[tuple[int, int], float], na: int, nb: int) -> Scores:
    i = np.array([p[0] for p in pairs], dtype=int)
    j = np.array([p[1] for p in pairs], dtype=int)
    prob = np.array(list(pairs.values()))
    zero = np.zeros(len(i))
    return Scores(i, j, prob, prob > 0.5, zero, zero, np.zeros(na), np.zeros(nb))


@pytest.mark.parametrize("dense", [True, False])
def test_assignment_maximises_the_summed_probability(
    dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not dense:
        monkeypatch.setattr(pairing, "DENSE_ASSIGNMENT", 0)
    # Greedy would take (0, 0) = 0.9 and leave 1 alone; the best sum pairs both.
    s = scores({(0, 0): 0.9, (0, 1): 0.8, (1, 0): 0.85, (2, 2): 0.4}, 3, 3)
    assert assign(s, 3, 3, AlignParams()) == {0: 1, 1: 0}


def test_no_ok_pair_assigns_nothing() -> None:
    assert assign(scores({(0, 0): 0.2}, 1, 1), 1, 1, AlignParams()) == {}


def test_share_in_rest_counts_what_the_main_partner_leaves() -> None:
    y = ["a", "b", "c", "d", "e", "f"]
    assert share_in_rest(["d", "e", "f"], y, ["a", "b", "c"]) == 1.0
    assert share_in_rest(["a", "b", "x"], y, ["a", "b", "c"]) == 0.0
    assert share_in_rest([], y, []) == 0.0


def test_orphans_pair_greedily_best_first() -> None:
    i, j = np.array([0, 0, 1]), np.array([0, 1, 1])
    cont = np.array([0.8, 0.9, 0.95])
    s = Scores(i, j, np.zeros(3), np.zeros(3) > 0, cont, np.zeros(3), np.zeros(2), np.zeros(2))
    types = np.array([5, 5])
    assert orphan_pairs({}, s, types, types, AlignParams()) == {1: 1, 0: 0}
    assert orphan_pairs({1: 1}, s, types, types, AlignParams()) == {0: 0}
    assert orphan_pairs({}, s, np.array([2, 2]), types, AlignParams()) == {}  # too few words


def test_a_split_sentence_joins_its_neighbours_pair() -> None:
    a = (
        "The storm cut power to 40,000 homes in the north of the county, and crews "
        "expect to restore most of them by Sunday evening."
    )
    b = (
        "The storm cut power to 40,000 homes in the north of the county. "
        "Crews expect to restore most of them by Sunday evening."
    )
    sa, sb = (Side.of(t, tuple(split_sentences(t))) for t in (a, b))
    pairs = pair_up(score(sa, sb, AlignParams()), sa, sb, AlignParams())
    assert len(pairs.main) == 1 and pairs.extra_a == {}
    ((i, j),) = pairs.main.items()
    assert pairs.extra_b == {1 - j: i}
    assert list(pairs.groups()) == [(i, j, [i], [j, 1 - j])]
