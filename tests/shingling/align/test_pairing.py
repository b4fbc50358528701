"""shingling.align.pairing: one-to-one assignment, orphans, split/merged extras and
the context pass over reused passages."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from shingling.align import AlignParams, pairing
from shingling.align.pairing import (
    assign,
    context_partners,
    orphan_pairs,
    pair_up,
    share_in_rest,
)
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


def test_a_gap_inside_a_reused_passage_is_taken_in_by_resemblance() -> None:
    # b0 -> a0 and b3 -> a2 are reused; b1 and b2 sit between them.
    s = scores({(0, 0): 0.9, (2, 3): 0.9, (1, 1): 0.15, (0, 2): 0.12, (1, 2): 0.05}, 3, 4)
    reused = {0: 0, 3: 2}
    gap_only = AlignParams(context_threshold=0.1, context_edge=0.0)
    assert context_partners(reused, s, False, gap_only) == {1: 1, 2: 0}
    only_gaps = AlignParams(context_threshold=0.13, context_edge=0.0)
    assert context_partners(reused, s, False, only_gaps) == {1: 1}
    # A gap wider than context_gap, or partners too far apart, is not one passage.
    assert context_partners(reused, s, False, AlignParams(context_gap=1, context_edge=0.0)) == {}
    assert context_partners(reused, s, False, AlignParams(context_span=1, context_edge=0.0)) == {}


def test_the_edges_of_a_reused_passage_extend_while_they_resemble_it() -> None:
    # b2 -> a5 is reused; b1 resembles a4, b0 resembles nothing near; b3 resembles a6.
    s = scores({(5, 2): 0.9, (4, 1): 0.3, (0, 0): 0.3, (6, 3): 0.25, (6, 4): 0.25}, 7, 5)
    edges = AlignParams(context_threshold=0.1, context_edge=0.2, context_edge_span=2)
    assert context_partners({2: 5}, s, False, edges) == {1: 4, 3: 6, 4: 6}
    assert context_partners({2: 5}, s, False, replace(edges, context_gap=1)) == {1: 4, 3: 6}
    assert context_partners({2: 5}, s, False, replace(edges, context_edge=0.0)) == {}
    # The a side reads the same pairs the other way round.
    assert context_partners({5: 2}, s, True, edges) == {4: 1, 6: 3}


def test_an_edge_goes_on_in_the_sources_order() -> None:
    # b2 -> a5 is reused. b3 (after it) resembles only a4, before a5's partner;
    # b1 (before it) resembles only a6, after. Neither continues the passage:
    # a writer's own paragraph next to a copied one (seeds 000/001, Zelenskyy).
    s = scores({(5, 2): 0.9, (4, 3): 0.5, (6, 1): 0.5}, 7, 5)
    edges = AlignParams(context_threshold=0.1, context_edge=0.2, context_edge_span=2)
    assert context_partners({2: 5}, s, False, edges) == {}
    # The same resemblance in the source's order is taken in.
    s = scores({(5, 2): 0.9, (6, 3): 0.5, (4, 1): 0.5}, 7, 5)
    assert context_partners({2: 5}, s, False, edges) == {1: 4, 3: 6}


def test_a_restatement_next_to_a_copy_is_taken_in() -> None:
    a = (
        "The city council voted on Tuesday to close the old river bridge for six months "
        "of repairs. Traffic will be diverted through the northern ring road."
    )
    b = (
        "The city council voted on Tuesday to close the old river bridge for six months "
        "of repairs. The old river bridge will be closed for six months while it is "
        "repaired, the council decided. Shops near the bridge fear losing customers."
    )
    sa, sb = (Side.of(t, tuple(split_sentences(t))) for t in (a, b))
    off = AlignParams(context_threshold=0.0, context_edge=0.0)
    for params, shared in ((AlignParams(), {1: 0}), (off, {})):
        pairs = pair_up(score(sa, sb, params), sa, sb, params)
        assert pairs.main == {0: 0}
        assert pairs.shared_b == shared
        assert pairs.shared_a == {}
