"""The frozen pipeline configuration and its fingerprint.

Every parameter that changes a signature, a shingle or a band key lives here.
The fingerprint is stored with the index: a process whose config differs
refuses to use that index (see ``service.storage.index``), because signatures made
with different parameters cannot be compared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

#: Bumped whenever normalisation, chrome removal, tokenisation or token hashing
#: changes output (3: token hashes computed in arrays, no longer xxh3).
NORMALISER_VERSION = 3


@dataclass(frozen=True)
class PipelineConfig:
    """Parameters of the text -> signature -> LSH pipeline.

    ``k``: words per shingle. ``num_perm``: MinHash permutations.
    ``b`` bands of ``r`` rows: a pair with Jaccard ``s`` becomes an LSH
    candidate with probability ``1 - (1 - s**r)**b`` (approximate: it
    holds in expectation over the random permutations).
    ``winnow``: the window, in shingles, of the passage fingerprints
    (``shingling.passages.fingerprints``): two texts that share a run of at
    least ``winnow + k - 1`` words share a fingerprint (a guarantee, not an
    estimate), and an article keeps about ``2 / (winnow + 1)`` of its
    shingles as fingerprints. ``winnow = 0``: no fingerprints, so no passage
    index: the LSH bands alone find candidates, as before the passage index
    (cheaper ingest, and partial reuse is missed: docs/matching.md).
    """

    k: int = 5
    num_perm: int = 128
    b: int = 64
    r: int = 2
    seed: int = 1
    winnow: int = 8
    normaliser_version: int = NORMALISER_VERSION

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.b < 1 or self.r < 1:
            raise ValueError(f"b and r must be >= 1, got b={self.b} r={self.r}")
        if self.winnow < 0:
            raise ValueError(f"winnow must be >= 1 (or 0: no passage index), got {self.winnow}")
        if self.b * self.r > self.num_perm:
            raise ValueError(
                f"b*r = {self.b * self.r} exceeds num_perm = {self.num_perm}: "
                "raise num_perm or lower b or r"
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> PipelineConfig:
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def fingerprint(self) -> str:
        """A short stable digest of every parameter (and the normaliser version)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @property
    def passages(self) -> bool:
        """Whether articles keep passage fingerprints (``winnow > 0``)."""
        return self.winnow > 0

    @property
    def guaranteed_run(self) -> int | None:
        """Words of a shared run that is always found by its fingerprints
        (None without a passage index)."""
        return self.winnow + self.k - 1 if self.passages else None

    def candidate_probability(self, s: float) -> float:
        """Probability that a pair with Jaccard ``s`` shares at least one band."""
        return float(1.0 - (1.0 - s**self.r) ** self.b)
