"""Every Redis key of copydesk, in one place.

An index is one or more **partitions**. Each partition holds whole articles
(their ids, records, signatures, LSH buckets, passage postings and time
index) under one hash tag, so on Redis Cluster a partition lives in one slot
and an article's write stays one atomic script. An article's partition is
fixed by its id (``IndexKeys.partition_of``); a query asks every partition,
in parallel (docs/scaling.md says why the index is split by article rather
than by bucket).

The first partition's tag is ``{cd:<index>}``: an index of one partition
(the default on a single Redis) has exactly the keys it had before
partitions existed. The others are ``{cd:<index>/<tag>}``, their tags chosen
when the index is created so that the partitions spread evenly over the
cluster's masters (``partition_tags``), and stored in the first partition's
meta.

Keys of one partition (``p`` = its tag; ``service.storage.layout`` says how
each value is encoded)::

    p:meta            hash   doc counter; in the first partition also config JSON,
                             fingerprint, layout version, LSH and fp shard counts,
                             the partitions' tags (JSON list)
    p:ids             hash   article id -> internal doc number (decimal)
    p:doc:<n>         hash   id, zlib text, text sha, shingle set, fingerprints, metadata
    p:sig:<n>>>10     string 1024 fixed-size slots of num_perm uint32 signatures
    p:lsh:<shard>     hash   (band, bucket) 5 bytes -> packed uint32 doc numbers
    p:fp:<shard>      hash   passage fingerprint 4 bytes -> packed uint32 doc numbers,
                             the newest FINGERPRINT_CAP of them
    p:bytime          zset   doc number -> published_at (or ingest) epoch seconds
    p:job:<id>        hash   clustering job status; p:jobres:<id> its result
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import redis
from redis.crc import key_slot

from service.storage import layout
from service.storage.layout import SIG_BLOCK_BITS, band_field

#: 2: passage fingerprints (``fp`` shards, and each doc's own list in its ``fp`` field).
LAYOUT_VERSION = 2
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


@dataclass(frozen=True)
class Keys:
    """The keys of one partition of an index (all of them, for an index of one)."""

    index: str = "default"
    #: The index's LSH shard count (per partition): stored in its meta when it is created.
    lsh_shards: int = DEFAULT_LSH_SHARDS
    #: The index's fingerprint shard count (per partition): stored in its meta too.
    fp_shards: int = DEFAULT_LSH_SHARDS
    #: The partition's tag: '' for the first partition.
    part: str = ""

    @cached_property  # every write builds these: format each once
    def prefix(self) -> str:
        return "{cd:" + self.index + ("/" + self.part if self.part else "") + "}"

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


#: A global doc number is ``partition << PART_BITS | n``, ``n`` the number
#: inside the partition (what its scripts and posting lists hold). With one
#: partition the global number is the partition's own.
PART_BITS = 32
_LOCAL = (1 << PART_BITS) - 1


@dataclass(frozen=True)
class IndexKeys:
    """The keys of every partition of one index, and global doc numbers."""

    parts: tuple[Keys, ...]

    @classmethod
    def single(cls, index: str = "default", lsh_shards: int = DEFAULT_LSH_SHARDS,
               fp_shards: int = DEFAULT_LSH_SHARDS) -> IndexKeys:  # fmt: skip
        return cls((Keys(index, lsh_shards, fp_shards),))

    @classmethod
    def of(cls, index: str, tags: Iterable[str], lsh_shards: int, fp_shards: int) -> IndexKeys:
        return cls(tuple(Keys(index, lsh_shards, fp_shards, tag) for tag in tags))

    @property
    def root(self) -> Keys:
        """The first partition: it also holds the index's config and its jobs."""
        return self.parts[0]

    @property
    def index(self) -> str:
        return self.root.index

    @property
    def meta(self) -> str:
        return self.root.meta

    def partition_of(self, article_id: str) -> int:
        """The partition that holds ``article_id`` (CRC-32 of its UTF-8, modulo the count)."""
        if len(self.parts) == 1:
            return 0
        return zlib.crc32(article_id.encode("utf-8", "surrogatepass")) % len(self.parts)

    def for_id(self, article_id: str) -> Keys:
        return self.parts[self.partition_of(article_id)]

    @staticmethod
    def number(partition: int, n: int) -> int:
        """The global doc number of doc ``n`` of ``partition``."""
        return (partition << PART_BITS) | n

    @staticmethod
    def split(number: int) -> tuple[int, int]:
        """(partition, number inside it) of a global doc number."""
        return number >> PART_BITS, number & _LOCAL

    def doc(self, number: int) -> str:
        p, n = self.split(number)
        return self.parts[p].doc(n)

    def sig_block(self, number: int) -> str:
        """The ``sig`` block of a global number; a block never spans partitions
        (the partition is in the number's high bits)."""
        p, n = self.split(number)
        return self.parts[p].sig_block(n)

    def job(self, job_id: str) -> str:
        return self.root.job(job_id)

    def job_result(self, job_id: str) -> str:
        return self.root.job_result(job_id)

    @property
    def jobs(self) -> str:
        return self.root.jobs


def read_keys(meta: dict[bytes, bytes], index: str) -> IndexKeys:
    """An index's keys from its first partition's meta (``HGETALL``): the shard
    counts and partition tags it was created with."""
    shards = layout.decode_count(meta.get(layout.META_LSH_SHARDS.encode()), DEFAULT_LSH_SHARDS)
    fp_shards = layout.decode_count(meta.get(layout.META_FP_SHARDS.encode()), DEFAULT_LSH_SHARDS)
    tags = layout.decode_partitions(meta.get(layout.META_PARTITIONS.encode()))
    return IndexKeys.of(index, tags, shards, fp_shards)


def partition_tags(index: str, count: int, owner: Callable[[int], str] | None = None) -> list[str]:
    """Tags for ``count`` partitions of ``index``: the first is ''; with
    ``owner`` (slot -> the master that serves it), partition i's tag is found
    so that its slot belongs to the i-th master round the ring from the first
    partition's, so the partitions split evenly over the masters of the
    cluster the index was created on (a later reshard moves whole partitions).
    Deterministic: the same masters give the same tags."""
    tags = [""]
    if count <= 1:
        return tags
    if owner is None:
        return tags + [str(i) for i in range(1, count)]
    masters = sorted({owner(s) for s in range(16384)})
    start = masters.index(owner(key_slot(Keys(index).meta.encode())))
    for i in range(1, count):
        want = masters[(start + i) % len(masters)]
        for j in range(100_000):  # a master with 1/N of the slots is hit in ~N tries
            tag = f"{i}-{j}"
            if owner(key_slot(Keys(index, part=tag).meta.encode())) == want:
                break
        tags.append(tag)
    return tags


def load_keys(client: redis.Redis, index: str) -> IndexKeys:
    """The keys of the existing index ``index`` (one partition when it has no meta yet)."""
    return read_keys(cast("dict[bytes, bytes]", client.hgetall(Keys(index).meta)), index)
