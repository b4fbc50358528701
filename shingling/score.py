"""Exact overlap scores of two shingle sets, and the verdict an editor expects.

Scores here are exact on the shingle sets (which are themselves a 64-bit
hashing of word k-grams); only LSH candidate generation is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from shingling.shingles import Shingles


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


def _found(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_set`` (sorted, unique)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_set, values)
    at[at == len(sorted_set)] = 0
    return sorted_set[at] == values


def _shared_per_set(query: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
    """How many of each set's values are in ``query``: one pass over all sets."""
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    if not sizes.sum():
        return np.zeros(len(sets), dtype=np.int64)
    owner = np.repeat(np.arange(len(sets)), sizes)
    hits = _found(np.concatenate(sets), query)
    return np.bincount(owner[hits], minlength=len(sets))


def compare_many(query: Shingles, others: list[Shingles]) -> list[Scores]:
    """``[compare(query, o) for o in others]``, in a few array operations for all
    of them at once (a query verifies up to ~50 candidates; one by one, each
    comparison is a sort of both sets)."""
    shared = _shared_per_set(query.hashes, [o.hashes for o in others])
    narrative = _shared_per_set(query.narrative, [o.narrative for o in others])
    return [
        _scores(len(query), len(other), s, q)
        for other, s, q in zip(others, shared.tolist(), narrative.tolist(), strict=True)
    ]
