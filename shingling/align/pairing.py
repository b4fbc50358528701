"""Which sentences pair up, from the kept pair scores.

A one-to-one assignment maximising the summed probability over pairs above
the threshold (Hungarian algorithm per connected component of those pairs,
order-free, so reordered paragraphs align); then unpaired sentences mostly
contained one in the other (a long sentence cut in two); then a many-to-one
pass: a sentence left over whose words are mostly (IDF-weighted) contained in
a neighbour's partner is the other half of a split or merged sentence, and
joins that group; last (``AlignParams.context_threshold``), a sentence left
over between reused sentences whose partners lie close together is reused
too when it resembles a sentence of that source passage (``context_partners``:
a summary rewords a passage, not one sentence at a time).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from shingling.align.model import AlignParams, context_floor
from shingling.align.scoring import Scores
from shingling.align.sides import Side

#: Largest component (rows x columns) the assignment solves as a dense matrix;
#: a larger one goes to the sparse solver.
DENSE_ASSIGNMENT = 1 << 20


def _solve_dense(
    ri: np.ndarray, ci: np.ndarray, gain: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Best one-to-one pairs of one component (Hungarian, dense)."""
    dense = np.zeros(shape)
    dense[ri, ci] = gain
    r, c = linear_sum_assignment(dense, maximize=True)
    matched = dense[r, c] > 0
    return r[matched], c[matched]


def _solve_sparse(
    ri: np.ndarray, ci: np.ndarray, gain: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Best one-to-one pairs of one component (sparse Jonker-Volgenant).

    Each row may also go to a column of its own at cost 2 (unmatched), so a
    full matching always exists; a pair costs 2 - gain.
    """
    n, m = shape
    cost = csr_matrix(
        (
            np.concatenate([2.0 - gain, np.full(n, 2.0)]),
            (np.concatenate([ri, np.arange(n)]), np.concatenate([ci, m + np.arange(n)])),
        ),
        shape=(n, m + n),
    )
    r, c = min_weight_full_bipartite_matching(cost)
    matched = c < m
    return r[matched], c[matched]


def assign(scores: Scores, na: int, nb: int, params: AlignParams) -> dict[int, int]:
    """One-to-one pairs (a index -> b index) among the ``ok`` ones,
    maximising the summed probability.

    The graph of ``ok`` pairs falls apart into connected components, each
    solved on its own (the best matching of the whole is the union of the
    best of each part): dense Hungarian for a small one, the sparse
    Jonker-Volgenant solver over its pairs for a large one.
    """
    sel = np.flatnonzero(scores.ok)
    if not len(sel):
        return {}
    i, j = scores.i[sel], scores.j[sel]
    # A small bonus for similar relative position only breaks ties between
    # repeated sentences; it cannot outweigh a real difference in evidence.
    pos = 1.0 - np.abs((i + 0.5) / na - (j + 0.5) / nb)
    gain = scores.prob[sel] + params.position_weight * pos
    graph = coo_matrix((np.ones(len(i)), (i, na + j)), shape=(na + nb, na + nb))
    _, component = connected_components(graph, directed=False)
    order = np.argsort(component[i], kind="stable")
    cuts = np.flatnonzero(np.diff(component[i][order])) + 1
    out: dict[int, int] = {}
    for edges in np.split(order, cuts):
        rows, ri = np.unique(i[edges], return_inverse=True)
        cols, ci = np.unique(j[edges], return_inverse=True)
        dense = len(rows) * len(cols) <= DENSE_ASSIGNMENT
        solve = _solve_dense if dense else _solve_sparse
        r, c = solve(ri, ci, gain[edges], (len(rows), len(cols)))
        out.update(zip(rows[r].tolist(), cols[c].tolist(), strict=True))
    return out


def extras(
    main: dict[int, int],
    cont: Mapping[tuple[int, int], float],
    own: Side,
    other: Side,
    params: AlignParams,
) -> dict[int, int]:
    """Leftover sentences of ``own`` that are the other half of a neighbour's pair.

    ``main`` maps ``own`` indexes to partners in ``other``; ``cont[x, y]``
    is the IDF-weighted share of ``x``'s words found in ``y`` (kept where it
    reaches ``params.extra_containment``, below it reads 0). A leftover
    ``x`` next to a paired sentence joins that pair's partner ``y`` when
    most of its words are in the part of ``y`` that ``y``'s main partner
    does not already account for: a sentence split in two, or two merged.
    """
    extra: dict[int, int] = {}
    for x in range(len(own.spans)):
        words_x = own.values(x)
        if x in main or len(set(words_x)) < params.extra_min_words:
            continue
        partners = {main[n] for n in (x - 1, x + 1) if n in main}
        best = max(partners, key=lambda y: cont.get((x, y), 0.0), default=None)
        if best is None or cont.get((x, best), 0.0) < params.extra_containment:
            continue
        z = next(k for k, y in main.items() if y == best)
        if share_in_rest(words_x, other.values(best), own.values(z)) >= params.extra_containment:
            extra[x] = best
    return extra


def share_in_rest(x: Sequence[str], y: Sequence[str], z: Sequence[str]) -> float:
    """Share of ``x``'s words found in what of ``y`` is not matched by ``z``."""
    matcher = difflib.SequenceMatcher(None, list(z), list(y), autojunk=False)
    rest: Counter[str] = Counter(y)
    for block in matcher.get_matching_blocks():
        rest.subtract(y[block.b : block.b + block.size])
    found = sum((Counter(x) & +rest).values())
    return found / len(x) if x else 0.0


def orphan_pairs(
    main: dict[int, int],
    scores: Scores,
    types_a: np.ndarray,
    types_b: np.ndarray,
    params: AlignParams,
) -> dict[int, int]:
    """Unpaired sentences, one mostly contained in the other (a long sentence
    cut in two halves scores low on symmetric measures): greedy, best first."""
    m = params.extra_min_words
    i, j = scores.i, scores.j
    c = np.maximum(
        np.where(types_a[i] >= m, scores.cont_a, 0.0), np.where(types_b[j] >= m, scores.cont_b, 0.0)
    )
    free = ~np.isin(i, list(main)) & ~np.isin(j, list(main.values()))
    sel = np.flatnonzero(free & (c >= params.extra_containment))
    rows, cols, c = i[sel], j[sel], c[sel]
    order = np.lexsort((-cols, -rows, -c))  # best first, ties by index
    out: dict[int, int] = {}
    taken_b: set[int] = set()
    for x, y in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if x not in out and y not in taken_b:
            out[x] = y
            taken_b.add(y)
    return out


def context_partners(
    reused: Mapping[int, int], scores: Scores, own_first: bool, params: AlignParams
) -> dict[int, int]:
    """Sentences of one side inside a reused passage, each with its partner.

    ``reused`` maps this side's reused sentences to their partners. A gap of
    at most ``params.context_gap`` sentences between two reused ones whose
    partners are at most ``params.context_span`` sentences apart lies inside
    one reused passage: a sentence of the gap joins the partner it is most
    probably the same as, among the passage's sentences (one either side
    too), when that probability reaches ``params.context_threshold`` (below
    the pair decision's own threshold: the passage is the evidence). With
    ``params.context_edge``, up to ``context_gap`` sentences just before or
    after a reused one extend its passage, one at a time while each reaches
    that probability against a sentence within ``context_edge_span`` of the
    partner *on the same side* (after it for a sentence after, before it for
    one before: the passage goes on in the source's order; a writer's own
    paragraph after a copied one, on the seeds, resembles an earlier source
    sentence). A partner may already be taken. Approximate: a sentence of the
    writer's own that happens to resemble the passage is taken in too.
    ``own_first``: this side is ``a`` (pairs read ``(i, j)``), else ``b``.
    """
    own, other = (scores.i, scores.j) if own_first else (scores.j, scores.i)
    keep = scores.prob >= context_floor(params)
    own, other, prob = own[keep], other[keep], scores.prob[keep]

    def best(y: int, lo: int, hi: int, floor: float) -> int | None:
        near = np.flatnonzero((own == y) & (other >= lo) & (other <= hi) & (prob >= floor))
        return int(other[near[np.argmax(prob[near])]]) if len(near) else None

    out: dict[int, int] = {}
    marks = sorted(reused)
    for p, n in zip(marks, marks[1:], strict=False):
        lo, hi = sorted((reused[p], reused[n]))
        if not 1 < n - p <= params.context_gap + 1 or hi - lo > params.context_span:
            continue
        for y in range(p + 1, n):
            if (
                params.context_threshold
                and (x := best(y, lo - 1, hi + 1, params.context_threshold)) is not None
            ):
                out[y] = x
    if params.context_edge:
        for m in marks:
            for step in (-1, 1):
                # The partner's side the passage goes on to, in the source's order.
                low, high = sorted((reused[m], reused[m] + step * params.context_edge_span))
                for y in range(m + step, m + step * (params.context_gap + 1), step):
                    if y in reused or y in out:
                        break
                    x = best(y, low, high, params.context_edge)
                    if x is None:
                        break
                    out[y] = x
    return out


@dataclass(frozen=True)
class Pairs:
    """The pairing of two texts.

    ``main``: a index -> b index of each pair; ``evidence[i, j]``: its
    probability, or for a pair found by containment alone (one sentence
    inside the other), that containment; ``extra_a``/``extra_b``: leftover
    sentences of a (of b) joined to the pair of their partner in b (in a);
    ``cont_a[i, j]``/``cont_b[j, i]``: the share of a's (b's) words found in
    the other, for the kept pairs; ``shared_a``/``shared_b``: sentences of a
    (of b) left over inside a reused passage (``context_partners``), each with
    a partner that may be taken too, labelled on its own against it (its
    probability is in ``evidence`` under ``(i, j)``).
    """

    main: dict[int, int]
    evidence: dict[tuple[int, int], float]
    extra_a: dict[int, int]
    extra_b: dict[int, int]
    cont_a: dict[tuple[int, int], float]
    cont_b: dict[tuple[int, int], float]
    shared_a: dict[int, int] = field(default_factory=dict)
    shared_b: dict[int, int] = field(default_factory=dict)

    def groups(self) -> Iterator[tuple[int, int, list[int], list[int]]]:
        """Each pair (i, j) with its group of sentences of a and of b (main one first)."""
        for i, j in self.main.items():
            group_a = [i, *(x for x, y in self.extra_a.items() if y == j)]
            group_b = [j, *(x for x, y in self.extra_b.items() if y == i)]
            yield i, j, group_a, group_b


def pair_up(scores: Scores, sa: Side, sb: Side, params: AlignParams) -> Pairs:
    """Pair the sentences of two texts: one-to-one (``assign``), then the
    orphans contained in one another, then the extras of split/merged groups,
    then (``params.context_threshold``) the sentences inside reused passages."""
    main = assign(scores, len(sa.spans), len(sb.spans), params)
    prob = scores.by_pair(scores.prob)
    cont_a = scores.by_pair(scores.cont_a)
    cont_b = scores.by_pair(scores.cont_b, b_first=True)
    evidence = {(i, j): prob[i, j] for i, j in main.items()}
    orphans = orphan_pairs(main, scores, sa.types(), sb.types(), params)
    evidence.update({(i, j): max(cont_a[i, j], cont_b[j, i]) for i, j in orphans.items()})
    main.update(orphans)
    inverse = {j: i for i, j in main.items()}
    extra_a = extras(main, cont_a, sa, sb, params)  # a extra -> b partner
    extra_b = extras(inverse, cont_b, sb, sa, params)  # b extra -> a partner
    if not context_floor(params):
        return Pairs(main, evidence, extra_a, extra_b, cont_a, cont_b)
    shared_a = context_partners({**main, **extra_a}, scores, True, params)
    shared_b = context_partners({**inverse, **extra_b}, scores, False, params)
    evidence.update({(i, j): prob[i, j] for i, j in shared_a.items()})
    evidence.update({(i, j): prob[i, j] for j, i in shared_b.items()})
    return Pairs(main, evidence, extra_a, extra_b, cont_a, cont_b, shared_a, shared_b)
