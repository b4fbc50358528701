"""Scoring every sentence pair of two texts, keeping only the pairs that can matter.

Scoring runs a block of rows at a time (``score``): memory grows with
``PAIRS_PER_BLOCK`` and the kept pairs, not with ``n_a x n_b``; time does, so
callers bound the sentence counts (``align(max_sentences=)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shingling.align.features import Fitted, tokens_ratio, with_semantic
from shingling.align.model import (
    AlignParams,
    context_floor,
    decide,
    probability,
    seq_ratio_bounds_probability,
)
from shingling.align.sides import Side
from shingling.tokenise import words

#: Pairs whose features are held at once while scoring (one block of rows of
#: ``a`` against all of ``b``): about 100 MB of floats at its peak.
PAIRS_PER_BLOCK = 1 << 17


@dataclass(frozen=True)
class Scores:
    """What the alignment needs of the ``n_a x n_b`` pair scores, kept sparse.

    The pairs kept (``i``, ``j``) are those that say the same thing (``ok``),
    those where one sentence's words are mostly contained in the other's, and
    those the context pass may take (probability at least ``context_floor``),
    with their probability and both containments; ``best_a``/``best_b``: each
    sentence's best probability against any sentence of the other text.
    """

    i: np.ndarray
    j: np.ndarray
    prob: np.ndarray
    ok: np.ndarray
    cont_a: np.ndarray
    cont_b: np.ndarray
    best_a: np.ndarray
    best_b: np.ndarray

    @classmethod
    def empty(cls, na: int, nb: int) -> Scores:
        """No pair kept (one of the texts has no sentence)."""
        none = np.zeros(0)
        ints = none.astype(int)
        return cls(ints, ints, none, none > 0, none, none, np.zeros(na), np.zeros(nb))

    def by_pair(self, values: np.ndarray, b_first: bool = False) -> dict[tuple[int, int], float]:
        """``values`` of the kept pairs by ``(i, j)`` (``(j, i)`` with ``b_first``)."""
        first, second = (self.j, self.i) if b_first else (self.i, self.j)
        pairs = zip(first.tolist(), second.tolist(), strict=True)
        return dict(zip(pairs, values.tolist(), strict=True))


def top_per_row(mask: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """``mask`` with at most ``k`` entries left per row: those with the largest ``key``."""
    heavy = np.flatnonzero(mask.sum(axis=1) > k)
    if not len(heavy):
        return mask
    out = mask.copy()
    for r in heavy.tolist():
        cols = np.flatnonzero(mask[r])
        out[r, cols[np.argsort(-key[r, cols], kind="stable")[k:]]] = False
    return out


#: Features of one block of rows: (features, share of a's words in b, of b's in a).
BlockFeatures = Callable[[slice], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _block_features(a: list[str], b: list[str], params: AlignParams) -> BlockFeatures:
    """The features of a block of rows of ``a`` against all of ``b``: lexical,
    plus the static-embedding ones with ``params.semantic``."""
    fit = Fitted(a, b, (), paired=False)
    if not params.semantic:
        return fit.features
    from shingling import semantic as sem

    emb_a, emb_b = sem.embed(a), sem.embed(b)
    token_idf = sem.idf(emb_a, emb_b)

    def features(rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        feats, cont_a, cont_b = fit.features(rows)
        return with_semantic(feats, sem.features(emb_a, emb_b, token_idf, rows)), cont_a, cont_b

    return features


@dataclass(frozen=True)
class _Pairs:
    """What scoring a block needs of the two texts."""

    toks_a: list[list[str]]
    toks_b: list[list[str]]
    lengths_a: np.ndarray
    lengths_b: np.ndarray
    bounded: bool  # seq_ratio's upper bound bounds the probability


def _exact_ratios(
    feats: np.ndarray, prob: np.ndarray, near: np.ndarray, lo: int, ctx: _Pairs, params: AlignParams
) -> np.ndarray:
    """Put the exact ``seq_ratio`` (and probability) in place of the bound where
    the pair could matter; returns which pairs of the block were so scored."""
    exact = prob >= params.exact_floor if ctx.bounded else np.ones(prob.shape, dtype=bool)
    exact = top_per_row(exact, prob + near, params.max_partners)
    ii, jj = np.nonzero(exact)
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        feats[i, j, -1] = tokens_ratio(ctx.toks_a[lo + i], ctx.toks_b[j])
    prob[ii, jj] = probability(feats[ii, jj], params)
    return exact


def _score_block(
    block: BlockFeatures, rows: slice, ctx: _Pairs, params: AlignParams
) -> tuple[np.ndarray, ...]:
    """Scores of the pairs of ``rows``: (the full probability matrix, then the
    kept pairs' i, j, probability, ok, containment of a in b and of b in a)."""
    na, nb = len(ctx.toks_a), len(ctx.toks_b)
    feats, cont_a, cont_b = block(rows)
    prob = probability(feats, params)
    pos_a = (np.arange(rows.start, rows.stop)[:, None] + 0.5) / na
    near = params.position_weight * (1.0 - np.abs(pos_a - (np.arange(nb) + 0.5) / nb))
    exact = _exact_ratios(feats, prob, near, rows.start, ctx, params)
    shorter = np.minimum(ctx.lengths_a[rows, None], ctx.lengths_b[None, :])
    ok = decide(prob, feats, shorter, params) & exact
    contained = np.maximum(cont_a, cont_b)
    keep = ok | top_per_row(
        contained >= params.extra_containment, contained + near, params.max_partners
    )
    if floor := context_floor(params):  # what ``pairing.context_partners`` may take
        keep |= exact & (prob >= floor)
    ii, jj = np.nonzero(keep)
    return prob, ii + rows.start, jj, prob[ii, jj], ok[ii, jj], cont_a[ii, jj], cont_b[ii, jj]


def score(sa: Side, sb: Side, params: AlignParams) -> Scores:
    """Score every sentence pair, one block of rows of ``a`` at a time, keeping
    only the pairs that can matter: memory grows with ``PAIRS_PER_BLOCK`` and
    the kept pairs, not with ``n_a x n_b``; time still grows with ``n_a x n_b``
    (hence ``COPYDESK_MAX_ALIGN_SENTENCES``).

    ``seq_ratio`` is exact where a pair's probability, with its upper bound in
    place of the ratio, could reach ``params.exact_floor``; elsewhere that
    probability is an upper bound below the floor and decides nothing. At most
    ``params.max_partners`` pairs per sentence of ``a`` (the most probable,
    nearest in position on ties) are scored exactly and kept: only a sentence
    repeated more often than that (boilerplate) can lose a partner to the cap.
    """
    a_sents = [s.text for s in sa.spans]
    b_sents = [s.text for s in sb.spans]
    na, nb = len(a_sents), len(b_sents)
    block = _block_features(a_sents, b_sents, params)
    ctx = _Pairs(
        [words(s) for s in a_sents],
        [words(s) for s in b_sents],
        sa.lengths(),
        sb.lengths(),
        seq_ratio_bounds_probability(params),
    )
    best_a, best_b = np.zeros(na), np.zeros(nb)
    kept: list[tuple[np.ndarray, ...]] = []
    step = max(1, PAIRS_PER_BLOCK // nb)
    for lo in range(0, na, step):
        rows = slice(lo, min(na, lo + step))
        prob, *pairs = _score_block(block, rows, ctx, params)
        best_a[rows] = prob.max(axis=1)
        np.maximum(best_b, prob.max(axis=0), out=best_b)
        kept.append(tuple(pairs))
    i, j, prob, ok, cont_a, cont_b = (np.concatenate(parts) for parts in zip(*kept, strict=True))
    return Scores(i, j, prob, ok, cont_a, cont_b, best_a, best_b)
