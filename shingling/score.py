"""Exact overlap scores of two shingle sets, and the verdict an editor expects.

Scores here are exact on the shingle sets (which are themselves a 64-bit
hashing of word k-grams); only LSH candidate generation is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from shingling import kernels
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


class Scores(NamedTuple):
    """Overlap of a pair of shingle sets (a tuple: a query builds ~30 of them)."""

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


def compare_packed(query: Shingles, stored: list[tuple[bytes, bytes]]) -> list[Scores]:
    """``[compare(query, unpack(h, bits)) for h, bits in stored]``: scores of a
    narrowed query set against sets as the index stores them (``pack``), all
    at once and without unpacking each one (a query verifies up to ~50).

    One compiled pass looks every stored value up in the query and gives both
    counts: a shared value is shared narrative when it is narrative in the
    query and its bit is set in the stored bitmap (a missing bitmap reads as
    none).
    """
    if not stored:
        return []
    sizes = [len(h) // 4 for h, _ in stored]
    shared, shared_narrative = kernels.overlaps(
        np.ascontiguousarray(query.hashes, dtype=PACKED),
        np.ascontiguousarray(query.narrative_windows, dtype=PACKED),  # any order will do
        np.frombuffer(b"".join(h for h, _ in stored), dtype=PACKED),
        np.cumsum(sizes, dtype=np.int64),
        np.frombuffer(b"".join(b for _, b in stored), dtype=np.uint8),
        np.cumsum([len(b) for _, b in stored], dtype=np.int64),
    )
    return [
        _scores(len(query), size, s, q)
        for size, s, q in zip(sizes, shared.tolist(), shared_narrative.tolist(), strict=True)
    ]
