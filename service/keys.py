"""Every Redis key of copydesk, in one place.

All keys of one index share the hash tag ``{cd:<index>}``, so on Redis
Cluster they live in one slot and an article's write stays one atomic script.
(An index therefore lives on one shard; scale out with several indexes.)

Layout (``p`` = ``{cd:<index>}``)::

    p:meta            hash   config JSON, fingerprint, layout version, LSH shard count,
                             doc counter
    p:ids             hash   article id -> internal doc number (decimal)
    p:doc:<n>         hash   id, zlib text, text sha, shingle count, metadata
    p:sig:<n>>>10     string 1024 fixed-size slots of num_perm uint32 signatures
    p:lsh:<shard>     hash   (band, bucket) 5 bytes -> packed uint32 doc numbers
    p:fp:<shard>      hash   passage fingerprint 4 bytes -> packed uint32 doc numbers,
                             the newest FINGERPRINT_CAP of them
    p:bytime          zset   doc number -> published_at (or ingest) epoch seconds
    p:job:<id>        hash   clustering job status; p:jobres:<id> its result
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

#: 2: passage fingerprints (``fp`` shards, and each doc's own list in its ``fp`` field).
LAYOUT_VERSION = 2
SIG_BLOCK_BITS = 10
#: The shard count of an index created before the count was stored in its meta.
DEFAULT_LSH_SHARDS = 1 << 16
#: Band entries a shard should hold when the index is at its planned capacity.
#: A shard is a compact (ziplist) hash, read and rewritten whole by every put:
#: measured in Redis 6.2, 64 bucket updates cost ~0.3 ms at 32 entries per
#: shard, 0.58 ms at 64, 1.1 ms at 128 and 3.8 ms at 1,000 (docs/benchmarks.md).
ENTRIES_PER_SHARD = 32
_MIN_SHARDS, _MAX_SHARDS = 1 << 10, 1 << 24
#: Fingerprints a news article keeps, for sizing the ``fp`` shards (about
#: ``2 / (winnow + 1)`` of its ~600 shingles at the default winnow of 8).
FINGERPRINTS_PER_ARTICLE = 128
#: Doc numbers a fingerprint's posting list keeps: its first carriers (a full
#: list takes no more, and makes room only as they are removed). A run of text
#: that more articles carry is boilerplate or a stock passage: a full list
#: offers no query candidates and no batch pairs (docs/matching.md). The cap
#: also keeps every posting list inside the compact hash encoding (256 bytes)
#: and every write O(1).
FINGERPRINT_CAP = 64


def lsh_shards_for(capacity: int, bands: int) -> int:
    """The shard count (a power of two) for ``capacity`` live articles of ``bands``
    band entries each: about ``ENTRIES_PER_SHARD`` entries per shard when full.

    More shards cost ~90 bytes of key overhead each once used; fewer make every
    put and query scan longer shards. Fixed when an index is created.
    """
    want = max(1, capacity) * max(1, bands) // ENTRIES_PER_SHARD
    return min(_MAX_SHARDS, max(_MIN_SHARDS, 1 << max(0, want - 1).bit_length()))


_BAND_FIELD = struct.Struct("<BI")
_FP_FIELD = struct.Struct("<I")


@dataclass(frozen=True)
class Keys:
    index: str = "default"
    #: The index's LSH shard count: stored in its meta when it is created.
    lsh_shards: int = DEFAULT_LSH_SHARDS
    #: The index's fingerprint shard count: stored in its meta too.
    fp_shards: int = DEFAULT_LSH_SHARDS

    @cached_property  # every write builds these: format each once
    def prefix(self) -> str:
        return "{cd:" + self.index + "}"

    @cached_property
    def meta(self) -> str:
        return f"{self.prefix}:meta"

    @cached_property
    def ids(self) -> str:
        return f"{self.prefix}:ids"

    @cached_property
    def bytime(self) -> str:
        return f"{self.prefix}:bytime"

    def doc(self, n: int) -> str:
        return self.doc_prefix + str(n)

    @cached_property
    def doc_prefix(self) -> str:
        """``doc(n)`` is this plus the decimal doc number (``lua/query.lua`` builds it so)."""
        return f"{self.prefix}:doc:"

    def sig_block(self, n: int) -> str:
        return f"{self.prefix}:sig:{n >> SIG_BLOCK_BITS}"

    def lsh(self, band: int, bucket: int) -> str:
        """The shard of a band entry. The Lua scripts compute the same from
        ``lsh_prefix`` and ``lsh_shards`` (lua/lib.lua): change both together."""
        return f"{self.lsh_prefix}{(band * 0x9E3779B1 + bucket) % self.lsh_shards}"

    def band_entries(self, bands: Iterable[int]) -> tuple[list[str], list[bytes]]:
        """Shard key and field of each band's bucket, in band order."""
        pairs = [(self.lsh(i, int(b)), band_field(i, int(b))) for i, b in enumerate(bands)]
        return [k for k, _ in pairs], [f for _, f in pairs]

    @cached_property
    def lsh_prefix(self) -> str:
        return f"{self.prefix}:lsh:"

    def fp(self, fingerprint: int) -> str:
        """The shard of a fingerprint's posting list (``lua/lib.lua``'s
        ``fp_entries`` computes the same: change both together). Fingerprints
        are the low bits of mixed 64-bit hashes, uniform already."""
        return f"{self.fp_prefix}{fingerprint % self.fp_shards}"

    @cached_property
    def fp_prefix(self) -> str:
        return f"{self.prefix}:fp:"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def job_result(self, job_id: str) -> str:
        return f"{self.prefix}:jobres:{job_id}"

    @cached_property
    def jobs(self) -> str:
        return f"{self.prefix}:jobs"

    def pattern(self, kind: str) -> str:
        """SCAN pattern for every key of one kind (``doc``, ``sig``, ``lsh``, ``fp``, ``job``)."""
        return f"{self.prefix}:{kind}:*"


def sig_offset(n: int, num_perm: int) -> int:
    """Byte offset of doc ``n``'s signature inside its ``sig`` block."""
    return (n & ((1 << SIG_BLOCK_BITS) - 1)) * num_perm * 4


def band_field(band: int, bucket: int) -> bytes:
    return _BAND_FIELD.pack(band, bucket)


def unpack_band_field(raw: bytes) -> tuple[int, int]:
    band, bucket = _BAND_FIELD.unpack(raw)
    return int(band), int(bucket)


def fp_field(fingerprint: int) -> bytes:
    """The field of a fingerprint in its shard: the fingerprint, uint32 LE."""
    return _FP_FIELD.pack(fingerprint)


def unpack_fp_field(raw: bytes) -> int:
    return int(_FP_FIELD.unpack(raw)[0])
