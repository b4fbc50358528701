"""Exact overlap scores of two shingle sets, and the verdict an editor expects.

Scores here are exact on the shingle sets (which are themselves a 64-bit
hashing of word k-grams); only LSH candidate generation is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from shingling.shingles import PACKED, Shingles


class Verdict(StrEnum):
    DUPLICATE = "duplicate"
    SYNDICATED = "syndicated"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds, chosen by measurement (see docs/matching.md).

    ``duplicate``: Jaccard at or above ``duplicate_jaccard`` (one changed word
    removes k shingles, so a few edits keep a 600-word article above 0.8).
    ``syndicated``: containment in either direction at or above
    ``syndicated_containment`` AND at least ``syndicated_narrative`` shared
    shingles outside direct quotations (quotes every outlet carries do not
    make a copy). ``partial``: at least ``partial_shared`` shared shingles.
    """

    duplicate_jaccard: float = 0.8
    syndicated_containment: float = 0.3
    syndicated_narrative: int = 25
    partial_shared: int = 8


@dataclass(frozen=True)
class Scores:
    jaccard: float
    containment: float  # share of the query's shingles found in the other
    reverse_containment: float  # share of the other's shingles found in the query
    shared: int
    shared_narrative: int

    def verdict(self, t: Thresholds) -> Verdict | None:
        """The verdict, or None when the pair shares too little to be a match."""
        if self.jaccard >= t.duplicate_jaccard:
            return Verdict.DUPLICATE
        best = max(self.containment, self.reverse_containment)
        if best >= t.syndicated_containment and self.shared_narrative >= t.syndicated_narrative:
            return Verdict.SYNDICATED
        if self.shared >= t.partial_shared:
            return Verdict.PARTIAL
        return None


def compare(query: Shingles, other: Shingles) -> Scores:
    """Exact Jaccard and containment (both directions) of two shingle sets."""
    shared = len(np.intersect1d(query.hashes, other.hashes, assume_unique=True))
    narrative = len(np.intersect1d(query.narrative, other.narrative, assume_unique=True))
    return _scores(len(query), len(other), shared, narrative)


def _scores(n_query: int, n_other: int, shared: int, shared_narrative: int) -> Scores:
    union = n_query + n_other - shared
    return Scores(
        jaccard=shared / union if union else 0.0,
        containment=shared / n_query if n_query else 0.0,
        reverse_containment=shared / n_other if n_other else 0.0,
        shared=shared,
        shared_narrative=shared_narrative,
    )


_SIEVE_BITS = 16  # a 64 Kib table of the query's low bits: ~1 % of non-members pass it


def _positions_in(values: np.ndarray, sorted_set: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``values`` found in ``sorted_set`` (sorted, unique), and where.

    A bit table of ``sorted_set``'s low bits sieves out most non-members in
    one lookup each; only the few left are binary-searched.
    """
    if len(sorted_set) == 0 or len(values) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    mask = np.uint32((1 << _SIEVE_BITS) - 1)
    table = np.zeros(1 << _SIEVE_BITS, dtype=bool)
    table[sorted_set & mask] = True
    maybe = np.flatnonzero(np.take(table, values & mask))
    candidates = values[maybe]
    at = np.searchsorted(sorted_set, candidates)
    at[at == len(sorted_set)] = 0
    exact = sorted_set[at] == candidates
    return maybe[exact], at[exact]


def compare_packed(query: Shingles, stored: list[tuple[bytes, bytes]]) -> list[Scores]:
    """``[compare(query, unpack(h, bits)) for h, bits in stored]``: scores of a
    narrowed query set against sets as the index stores them (``pack``), all
    at once and without unpacking each one (a query verifies up to ~50).

    One membership pass over every stored value gives both counts: a value is
    shared narrative when it is found, narrative in the query, and its bit is
    set in the stored bitmap.
    """
    if not stored:
        return []
    query_values = query.hashes.astype(PACKED)
    sizes = np.array([len(h) // 4 for h, _ in stored], dtype=np.int64)
    values = np.frombuffer(b"".join(h for h, _ in stored), dtype=PACKED)
    ends = np.cumsum(sizes)
    query_narrative = np.zeros(len(query_values), dtype=bool)
    query_narrative[np.searchsorted(query_values, query.narrative.astype(PACKED))] = True

    found, where = _positions_in(values, query_values)
    # The narrative bit of each found value: bitmaps are padded to whole bytes
    # each (a missing one reads as "no narrative"), most significant bit first.
    nbytes = (sizes + 7) // 8
    bitmaps = np.frombuffer(
        b"".join(b.ljust(n, b"\0")[:n] for (_, b), n in zip(stored, nbytes.tolist(), strict=True)),
        dtype=np.uint8,
    )
    whose = np.searchsorted(ends, found, side="right")  # which stored set each is from
    bit = found - (ends - sizes)[whose] + 8 * (np.cumsum(nbytes) - nbytes)[whose]
    flag = (np.take(bitmaps, bit >> 3) >> (7 - (bit & 7)).astype(np.uint8)) & 1
    narrative = flag.astype(bool) & query_narrative[where]
    shared = np.bincount(whose, minlength=len(stored))
    shared_narrative = np.bincount(whose[narrative], minlength=len(stored))
    return [
        _scores(len(query), size, s, q)
        for size, s, q in zip(
            sizes.tolist(), shared.tolist(), shared_narrative.tolist(), strict=True
        )
    ]
