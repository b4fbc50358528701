"""Consistency check of one index in Redis: orphans and dangling references.

Every article write is one Lua script (``service/storage/lua/put.lua``, ``remove.lua``),
so an index should never be half-written, whatever fails (a killed client, a
killed Redis, a lost connection). ``check`` proves it on a live index by
scanning every structure of the layout in ``service.storage.keys`` and cross-checking:

- ``ids``: each id points at a doc hash that exists and names the same id;
- ``doc:<n>``: each doc hash is the one its id points at (else an orphan),
  has its text, and its number is below the doc counter;
- ``sig:<block>``: each live doc has a signature in its slot, and every
  non-empty slot belongs to a live doc;
- ``lsh:<shard>``: every packed doc number is a live doc whose signature puts
  it in that (band, bucket), at most once; every live doc has all ``b`` entries;
- ``fp:<shard>``: every packed doc number is a live doc whose own ``fp``
  list holds that fingerprint, at most once, and no list is longer than
  ``FINGERPRINT_CAP``. (A live doc can be absent from a list only because the
  cap pushed it out for newer ones, which is not a fault, so absences are not
  reported.)
- ``bytime``: exactly the live docs.

Read-only. It reads a consistent picture only when no writer runs at the
same time: writes in flight show up as transient problems, so run it on a
quiet index (or run it twice).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
import redis

from service.storage import layout
from service.storage.keys import FINGERPRINT_CAP, IndexKeys, Keys, load_keys
from service.storage.layout import unpack_band_field, unpack_fp_field, unpack_u32s
from shingling import PipelineConfig, band_keys

_BATCH = 512
_T = TypeVar("_T")


@dataclass(frozen=True)
class Problem:
    """One inconsistency: ``kind`` is a stable short name, ``detail`` says where."""

    kind: str
    detail: str


@dataclass
class Report:
    """What ``check`` found: counts of what it scanned, and every problem."""

    articles: int = 0
    docs: int = 0
    signature_slots: int = 0
    lsh_entries: int = 0
    fp_entries: int = 0
    bytime: int = 0
    partitions: int = 1
    problems: list[Problem] = field(default_factory=list)
    #: Prefixed to each detail: which partition is being checked.
    where: str = field(default="", repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, detail: str) -> None:
        self.problems.append(Problem(kind, self.where + detail))

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for p in self.problems:
            counts[p.kind] += 1
        return dict(sorted(counts.items()))


def _scan(client: redis.Redis, pattern: str) -> Iterator[bytes]:
    yield from client.scan_iter(match=pattern, count=1000)


def _suffix_int(key: bytes) -> int | None:
    try:
        return int(key.rsplit(b":", 1)[1])
    except ValueError:
        return None


def _batched(items: list[_T]) -> Iterator[list[_T]]:
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]


def check(client: redis.Redis, config: PipelineConfig, *, index: str = "default") -> Report:
    """Scan index ``index`` in ``client`` and report every orphan and dangling
    reference, partition by partition (doc numbers in the details are the
    partition's own; with several partitions each detail names its partition)."""
    keys = load_keys(client, index)
    report = Report(partitions=len(keys.parts))
    for p, part in enumerate(keys.parts):
        report.where = f"partition {part.prefix}: " if len(keys.parts) > 1 else ""
        _check_partition(client, config, part, report)
        if len(keys.parts) > 1:
            _check_routing(client, keys, p, report)
    report.where = ""
    known = {part.prefix.encode() for part in keys.parts}
    strays = {k[: k.index(b"}") + 1] for k in _scan(client, "{cd:" + index + "/*")} - known
    for tag in sorted(strays):
        report.add(
            "unknown_partition", f"keys of {tag.decode()} belong to no partition in the meta"
        )
    return report


def _check_routing(client: redis.Redis, keys: IndexKeys, p: int, report: Report) -> None:
    """Every id of partition ``p`` is one that ``partition_of`` sends there."""
    for raw_id, _ in client.hscan_iter(keys.parts[p].ids, count=1000):
        if keys.partition_of(raw_id.decode()) != p:
            report.add("misrouted_id", f"id {raw_id.decode()!r} is stored outside its partition")


def _check_partition(
    client: redis.Redis, config: PipelineConfig, keys: Keys, report: Report
) -> None:
    """``check`` of one partition's keys."""
    live = _check_ids(client, keys, report)
    _check_docs(client, keys, live, report)
    signatures = _check_signatures(client, config, keys, live, report)
    _check_bands(client, config, keys, live, signatures, report)
    _check_fingerprints(client, keys, live, report)
    _check_bytime(client, keys, live, report)


def _check_ids(client: redis.Redis, keys: Keys, report: Report) -> dict[int, str]:
    """The ``ids`` hash: id -> doc number. Returns the live docs (number -> id)."""
    live: dict[int, str] = {}
    for raw_id, raw_n in client.hscan_iter(keys.ids, count=1000):
        report.articles += 1
        try:
            n = layout.decode_number(raw_n)
        except ValueError:
            report.add("bad_id_entry", f"id {raw_id!r} maps to {raw_n!r}, not a doc number")
            continue
        if n in live:
            report.add("shared_doc", f"ids {live[n]!r} and {raw_id.decode()!r} both map to doc {n}")
        live[n] = raw_id.decode()
    return live


def _check_docs(client: redis.Redis, keys: Keys, live: dict[int, str], report: Report) -> None:
    """The doc hashes against ``ids`` and the doc counter."""
    counter = layout.decode_count(client.hget(keys.meta, layout.META_NEXT_DOC), 0)
    seen_docs: set[int] = set()
    for batch in _batched(list(_scan(client, keys.pattern("doc")))):
        pipe = client.pipeline(transaction=False)
        for k in batch:
            pipe.hmget(k, layout.ID, layout.TEXT, layout.SHA)
        for k, (doc_id, text, sha) in zip(batch, pipe.execute(), strict=True):
            number = _suffix_int(k)
            if number is None:
                report.add("bad_key", f"{k.decode()} is not a doc number")
                continue
            report.docs += 1
            seen_docs.add(number)
            if number not in live:
                report.add("orphan_doc", f"doc {number} (id {_d(doc_id)}) is not in ids")
            elif doc_id is None or doc_id.decode() != live[number]:
                report.add(
                    "doc_id_mismatch",
                    f"ids[{live[number]!r}] = {number} but doc {number} names {_d(doc_id)}",
                )
            if text is None or sha is None:
                report.add("incomplete_doc", f"doc {number} has no text or text hash")
            if number > counter:
                report.add("doc_beyond_counter", f"doc {number} > meta next_doc {counter}")
    for n, article_id in sorted(live.items()):
        if n not in seen_docs:
            report.add("dangling_id", f"ids[{article_id!r}] = {n} but doc {n} does not exist")


def _check_signatures(
    client: redis.Redis, config: PipelineConfig, keys: Keys, live: dict[int, str], report: Report
) -> dict[int, np.ndarray]:
    """The signature slots: every set slot is a live doc's, every live doc has
    one. Returns the live docs' signatures."""
    signatures: dict[int, np.ndarray] = {}
    blocks: dict[int, bytes] = {}
    for k in _scan(client, keys.pattern("sig")):
        b = _suffix_int(k)
        raw = cast("bytes | None", client.get(k))  # the client does not decode replies
        if b is None or raw is None:
            continue
        blocks[b] = raw
    for b, raw in sorted(blocks.items()):
        for slot, signature in layout.set_slots(raw, config.num_perm):
            n = layout.sig_block_start(b) | slot
            report.signature_slots += 1
            if n not in live:
                report.add("orphan_signature", f"signature slot of doc {n} is set, doc not in ids")
            else:
                signatures[n] = signature
    for n, article_id in sorted(live.items()):
        if n in signatures:
            continue
        if not layout.slot_is_set(blocks.get(layout.sig_block_of(n)), n, config.num_perm):
            report.add("missing_signature", f"doc {n} ({article_id!r}) has no signature")
    return signatures


def _check_bands(
    client: redis.Redis,
    config: PipelineConfig,
    keys: Keys,
    live: dict[int, str],
    signatures: dict[int, np.ndarray],
    report: Report,
) -> None:
    """The LSH shards against the live docs' signatures."""
    expected = {n: band_keys(sig, config) for n, sig in signatures.items()}
    entries: dict[int, int] = defaultdict(int)
    for batch in _batched(list(_scan(client, keys.pattern("lsh")))):
        pipe = client.pipeline(transaction=False)
        for k in batch:
            pipe.hgetall(k)
        for k, shard in zip(batch, pipe.execute(), strict=True):
            for raw_field, packed in shard.items():
                _check_bucket(report, keys, k, raw_field, packed, live, expected, entries)
    for n, article_id in sorted(live.items()):
        if n in expected and entries[n] != config.b:
            report.add(
                "missing_band_entry",
                f"doc {n} ({article_id!r}) is in {entries[n]} of {config.b} bands",
            )


def _check_bytime(client: redis.Redis, keys: Keys, live: dict[int, str], report: Report) -> None:
    """The time index: exactly the live docs."""
    timed: set[int] = set()
    for member, _score in client.zscan_iter(keys.bytime, count=1000):
        report.bytime += 1
        try:
            n = layout.decode_number(member)
        except ValueError:
            report.add("bad_bytime_entry", f"bytime member {member!r} is not a doc number")
            continue
        timed.add(n)
        if n not in live:
            report.add("orphan_bytime", f"bytime holds doc {n}, not in ids")
    for n, article_id in sorted(live.items()):
        if n not in timed:
            report.add("missing_bytime", f"doc {n} ({article_id!r}) is not in bytime")


def _check_fingerprints(
    client: redis.Redis, keys: Keys, live: dict[int, str], report: Report
) -> None:
    """The ``fp`` shards against each live doc's own fingerprint list."""
    own: dict[int, set[int]] = {}
    numbers = sorted(live)
    for batch in _batched(numbers):
        pipe = client.pipeline(transaction=False)
        for n in batch:
            pipe.hget(keys.doc(n), layout.FINGERPRINTS)
        for n, raw in zip(batch, pipe.execute(), strict=True):
            if raw is None:
                report.add("missing_fingerprints", f"doc {n} ({live[n]!r}) has no fp field")
            own[n] = set(unpack_u32s(raw).tolist())
    for shard_keys in _batched(list(_scan(client, keys.pattern("fp")))):
        pipe = client.pipeline(transaction=False)
        for k in shard_keys:
            pipe.hgetall(k)
        for k, shard in zip(shard_keys, pipe.execute(), strict=True):
            for raw_field, packed in shard.items():
                _check_posting(report, keys, k.decode(), raw_field, packed, live, own)


def _check_posting(
    report: Report,
    keys: Keys,
    where: str,
    raw_field: bytes,
    packed: bytes,
    live: dict[int, str],
    own: dict[int, set[int]],
) -> None:
    if len(raw_field) != layout.FP_FIELD_BYTES or not packed or len(packed) % 4:
        report.add("bad_fp_entry", f"{where} field {raw_field!r} holds {len(packed)} bytes")
        return
    fingerprint = unpack_fp_field(raw_field)
    if keys.fp(fingerprint) != where:
        report.add("misplaced_fp_entry", f"fingerprint {fingerprint} stored in {where}")
    docs = unpack_u32s(packed).tolist()
    if len(docs) > FINGERPRINT_CAP:
        report.add("oversized_fp_list", f"fingerprint {fingerprint} lists {len(docs)} docs")
    if len(set(docs)) != len(docs):
        report.add("duplicate_fp_entry", f"fingerprint {fingerprint} lists a doc twice")
    for n in set(docs):
        report.fp_entries += 1
        if n not in live:
            report.add("dangling_fp_entry", f"fingerprint {fingerprint} lists doc {n}, not in ids")
        elif fingerprint not in own.get(n, set()):
            report.add(
                "stale_fp_entry",
                f"doc {n} ({live[n]!r}) listed under fingerprint {fingerprint}, "
                "which its text does not give",
            )


def _check_bucket(
    report: Report,
    keys: Keys,
    shard_key: bytes,
    raw_field: bytes,
    packed: bytes,
    live: dict[int, str],
    expected: dict[int, np.ndarray],
    entries: dict[int, int],
) -> None:
    where = shard_key.decode()
    if len(raw_field) != layout.BAND_FIELD_BYTES or not packed or len(packed) % 4:
        report.add("bad_lsh_entry", f"{where} field {raw_field!r} holds {len(packed)} bytes")
        return
    band, bucket = unpack_band_field(raw_field)
    if keys.lsh(band, bucket).encode() != shard_key:
        report.add("misplaced_lsh_entry", f"band {band} bucket {bucket} stored in {where}")
    docs = unpack_u32s(packed).tolist()
    if len(set(docs)) != len(docs):
        report.add("duplicate_lsh_entry", f"band {band} bucket {bucket} lists a doc twice")
    for n in set(docs):
        report.lsh_entries += 1
        if n not in live:
            report.add(
                "dangling_lsh_entry", f"band {band} bucket {bucket} lists doc {n}, not in ids"
            )
            continue
        want = expected.get(n)
        if want is None:
            continue  # reported as missing_signature
        if band >= len(want) or int(want[band]) != bucket:
            report.add(
                "stale_lsh_entry",
                f"doc {n} ({live[n]!r}) listed in band {band} bucket {bucket}, "
                "which its signature does not give",
            )
        else:
            entries[n] += 1


def _d(raw: bytes | None) -> str:
    return repr(raw.decode()) if raw is not None else "none"
