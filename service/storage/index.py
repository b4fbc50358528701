"""The article index in Redis: atomic writes, one-round-trip LSH lookups,
exact verification and ranking.

LSH finds *candidates* and is approximate: a pair with Jaccard ``s`` is a
candidate with probability ``1 - (1 - s**r)**b`` (see ``PipelineConfig``), and
at most ``max_candidates`` of them (the most shared bands first) are verified,
and a bucket shared by more than ``max_bucket`` articles contributes only its
newest ``max_bucket`` (a pair whose only shared band is such a bucket can be
missed).
Every verified candidate is scored exactly on its stored shingle set (32-bit
hashes: see ``shingling.shingles.narrow``), so the scores in a ``Match`` are
exact; only a missed candidate is an error, and its rate is measured in
docs/matching.md and the benchmarks.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, cast

import numpy as np
import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from service.defaults import (
    DEFAULT_MAX_BUCKET,
    DEFAULT_MAX_CANDIDATES,
    DEFAULT_MAX_PASSAGE_CANDIDATES,
    MAX_LOCATED,
    MAX_SINGLE_FINGERPRINT_CANDIDATES,
)
from service.model import (
    EMPTY_TEXT,
    ArticleIn,
    ConfigMismatch,
    Contention,
    EmptyText,
    Match,
    MatchesUnavailable,
    PutResult,
    StoredArticle,
)
from service.settings import Settings
from service.storage import layout, scripting
from service.storage.keys import (
    DEFAULT_LSH_SHARDS,
    FINGERPRINT_CAP,
    FINGERPRINTS_PER_ARTICLE,
    LAYOUT_VERSION,
    IndexKeys,
    Keys,
    lsh_shards_for,
    partition_tags,
)
from service.storage.layout import (
    PreparedDoc,
    decode_str,
    decode_text,
    encode_doc,
    pack_u32,
    pack_u32s,
    sig_offset,
    unpack_u32s,
)
from shingling import (
    Analysis,
    PipelineConfig,
    Thresholds,
    Verdict,
    analyse,
    band_keys,
    compare_packed,
    shared_passages,
)
from shingling.passages import locate
from shingling.shingles import Shingles, narrow

_VERDICT_RANK = {Verdict.DUPLICATE: 0, Verdict.SYNDICATED: 1, Verdict.PARTIAL: 2}
_StoredVersion = tuple[list[bytes | None], np.ndarray]  # identity fields, signature
_MAX_RETRIES = 8


class _Candidate(NamedTuple):
    """One row of ``lua/query.lua``'s reply: a doc number, how many of the
    query's band buckets and passage fingerprints it shares, and (when asked
    for) the stored fields verifying and reporting it needs (None when the
    doc was deleted)."""

    number: int
    shared_bands: int
    shared_fingerprints: int
    id: bytes | None = None
    title: bytes | None = None
    source: bytes | None = None
    published_at: bytes | None = None
    hashes: bytes | None = None
    narrative: bytes | None = None


def _back_off(attempt: int) -> None:
    """Wait a random 0-1, 0-2, 0-4 ... ms (capped at 64 ms) after losing race
    ``attempt``, so that writers racing for one id stop colliding in lockstep."""
    time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.064)))


def _now() -> datetime:
    return datetime.now(UTC)


def prepare(article: ArticleIn, config: PipelineConfig) -> PreparedDoc | EmptyText:
    """Analyse ``article`` into a ``PreparedDoc`` (pure CPU: the part of bulk
    ingest that can run in other processes). ``EmptyText`` when it has no words."""
    analysis = analyse(article.text, config)
    if analysis.empty:
        return EmptyText(EMPTY_TEXT)
    return encode_doc(article, analysis, _now())


class Index:
    """One named index in one Redis. The client is passed in; nothing global."""

    def __init__(
        self,
        client: redis.Redis,
        config: PipelineConfig,
        thresholds: Thresholds | None = None,
        *,
        name: str = "default",
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
        max_bucket: int = DEFAULT_MAX_BUCKET,
        max_passage_candidates: int = DEFAULT_MAX_PASSAGE_CANDIDATES,
        capacity: int | None = None,
        partitions: int | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.thresholds = thresholds or Thresholds()
        # A new index gets ``partitions`` (unset: one per master of a Redis
        # Cluster, else one), each sized for its share of ``capacity``; an
        # existing one keeps the tags and shard counts in its meta (check_config
        # reads them).
        self._cluster = isinstance(client, RedisCluster)
        if partitions is None:
            partitions = len(cast(RedisCluster, client).get_primaries()) if self._cluster else 1  # type: ignore[no-untyped-call]
        self._wanted_partitions = partitions
        per_part = -(-capacity // partitions) if capacity else None
        shards = lsh_shards_for(per_part, config.b) if per_part else DEFAULT_LSH_SHARDS
        fp_shards = (
            lsh_shards_for(per_part, FINGERPRINTS_PER_ARTICLE) if per_part else DEFAULT_LSH_SHARDS
        )
        self.keys = IndexKeys.single(name, shards, fp_shards)
        self._pool: ThreadPoolExecutor | None = None
        self.max_candidates = max_candidates
        self.max_bucket = max_bucket
        #: 0 turns the passage candidates off (the bands alone, as before layout 2).
        self.max_passage_candidates = max_passage_candidates
        self._put = client.register_script(scripting.source("put.lua"))
        self._remove = client.register_script(scripting.source("remove.lua"))
        self._query_script = client.register_script(scripting.source("query.lua"))
        self._config_checked = False
        self._sig_block_bytes = layout.sig_block_bytes(config.num_perm)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Settings) -> Index:
        """The index ``settings`` name, with its pipeline, thresholds and limits."""
        return cls(
            client,
            settings.pipeline(),
            settings.thresholds(),
            name=settings.index,
            max_candidates=settings.max_candidates,
            max_bucket=settings.max_bucket,
            max_passage_candidates=settings.max_passage_candidates,
            capacity=settings.capacity,
            partitions=settings.partitions,
        )

    # -- configuration -------------------------------------------------
    def check_config(self) -> None:
        """Claim an empty index for this config, or refuse one built otherwise."""
        meta = self.keys.meta
        fields = ("fingerprint", "config", "layout", "lsh_shards", "fp_shards", "partitions")
        root = self.keys.root
        claim: dict[str, str | int] = {
            "fingerprint": self.config.fingerprint,
            "config": self.config.to_json(),
            "layout": str(LAYOUT_VERSION),
            "lsh_shards": root.lsh_shards,
            "fp_shards": root.fp_shards,
        }
        # An index of another layout is refused before anything is claimed in it.
        layout, had_tags = self.client.hmget(meta, ["layout", "partitions"])
        self._check_layout(cast("bytes | None", layout))
        if layout is None:  # a new index: its partitions' tags (an existing one keeps its own)
            claim["partitions"] = json.dumps(self._new_tags())
        elif had_tags is None:
            # Made before partitions existed: it is one partition, whatever is asked now.
            claim["partitions"] = json.dumps([""])
        # Claim what is unset, then read back what won (another process may have
        # claimed first), in one round trip.
        pipe = self.client.pipeline()
        for name, value in claim.items():
            pipe.hsetnx(meta, name, value)
        pipe.hmget(meta, fields)
        stored_fp, stored_cfg, layout, shards, fp_shards, tags = pipe.execute()[-1]
        self._check_layout(layout)
        if stored_fp is not None and stored_fp.decode() != self.config.fingerprint:
            stored = PipelineConfig.from_json(stored_cfg) if stored_cfg else None
            if stored is not None and stored.normaliser_version != self.config.normaliser_version:
                raise ConfigMismatch(
                    f"index '{self.keys.index}' was built by a copydesk whose text pipeline "
                    f"(normaliser version {stored.normaliser_version}) gives other shingle "
                    f"hashes than this one's (version {self.config.normaliser_version}): "
                    "re-ingest the articles into a new index (another COPYDESK_INDEX or "
                    "--data-dir), then drop the old one."
                )
            raise ConfigMismatch(
                f"index '{self.keys.index}' was built with {stored} "
                f"(fingerprint {stored_fp.decode()}), but this process uses {self.config} "
                f"(fingerprint {self.config.fingerprint}). Signatures from different "
                "parameters cannot be compared: run with the index's parameters "
                "(COPYDESK_SHINGLE_K, COPYDESK_NUM_PERM, COPYDESK_BANDS, COPYDESK_ROWS, "
                "COPYDESK_WINNOW), "
                "or use another COPYDESK_INDEX / --data-dir and re-ingest."
            )
        keys = IndexKeys.of(root.index, json.loads(tags), int(shards), int(fp_shards))
        if keys != self.keys:
            self.keys = keys
        self._config_checked = True

    def _new_tags(self) -> list[str]:
        """The partition tags this process would give a new index: on a cluster,
        spread over its masters (``partition_tags``)."""
        owner = None
        if self._cluster:
            cluster = cast(RedisCluster, self.client)

            def owner(slot: int) -> str:
                return str(cluster.nodes_manager.get_node_from_slot(slot).name)

        return partition_tags(self.keys.index, self._wanted_partitions, owner)

    @property
    def partitions(self) -> int:
        return len(self.keys.parts)

    def _check_layout(self, layout: bytes | None) -> None:
        if layout is not None and int(layout) != LAYOUT_VERSION:
            raise ConfigMismatch(
                f"index '{self.keys.index}' uses storage layout {int(layout)}; this copydesk "
                f"reads layout {LAYOUT_VERSION} (2 added passage fingerprints). Re-ingest the "
                "articles into a new index (another COPYDESK_INDEX or --data-dir), then drop "
                "the old one."
            )

    def _ensure(self) -> None:
        if not self._config_checked:
            self.check_config()

    # -- writes ----------------------------------------------------------
    def put(self, article: ArticleIn, *, limit: int = 20) -> PutResult:
        """Index ``article`` atomically; same id and text again is a no-op."""
        self._ensure()
        analysis = analyse(article.text, self.config)
        if analysis.empty:
            raise EmptyText(EMPTY_TEXT)
        doc = encode_doc(article, analysis, _now())
        p = self.keys.partition_of(doc.id)
        part = self.keys.parts[p]
        for attempt in range(_MAX_RETRIES):
            cur = self.client.hget(part.ids, doc.id)
            old: tuple[int, np.ndarray] | None = None
            if cur is not None:
                old_n = self.keys.number(p, int(cur))
                meta, old_sig = self._stored_versions([old_n])[old_n]
                if layout.same_version(meta, doc.fields):
                    matches = self._query(analysis, exclude={old_n}, limit=limit)
                    matches = self._located(article.text, matches)
                    return PutResult(doc.id, "unchanged", matches)
                old = (int(cur), old_sig)
            n = int(self.client.hincrby(part.meta, layout.META_NEXT_DOC, 1))
            keys, args = self._put_args(part, doc, cur, n, old)
            if self._put(keys=keys, args=args) == b"OK":
                status: Literal["created", "replaced"] = "replaced" if old else "created"
                exclude = {self.keys.number(p, n)}
                try:
                    matches = self._located(
                        article.text, self._query(analysis, exclude=exclude, limit=limit)
                    )
                except (redis.RedisError, RedisClusterException) as exc:
                    if self.partitions == 1:
                        raise  # one partition: the write's own server failed since
                    raise MatchesUnavailable(doc.id, status, exc) from exc
                return PutResult(doc.id, status, matches)
            _back_off(attempt)
        raise Contention(doc.id, "write", _MAX_RETRIES)

    def put_many(self, articles: Iterable[ArticleIn]) -> list[PutResult | EmptyText]:
        """Index many articles in a few round trips: bulk ingest.

        Each article is still written by its own atomic script (fully indexed
        or not at all); the scripts travel in one pipeline. Results come back
        in input order, without matches (bulk ingest does not query); an
        article with no words gives its ``EmptyText`` instead of a result. An
        article whose id changed under a concurrent writer, or repeats within
        the batch, falls back to ``put``, which re-reads and retries.
        (``service.bulk`` overlaps the analysis of one batch with the writes of
        the previous one, and can analyse in several processes.)
        """
        batch = list(articles)
        return self.write_prepared(batch, [prepare(a, self.config) for a in batch])

    def write_prepared(
        self, batch: list[ArticleIn], docs: list[PreparedDoc | EmptyText]
    ) -> list[PutResult | EmptyText]:
        """The Redis half of ``put_many``: ``docs[i]`` is ``prepare(batch[i], config)``."""
        self._ensure()
        out: list[PutResult | EmptyText | None] = [
            d if isinstance(d, EmptyText) else None for d in docs
        ]
        pending = [(i, d) for i, d in enumerate(docs) if not isinstance(d, EmptyText)]
        by_part: dict[int, list[tuple[int, PreparedDoc]]] = {}
        for i, d in pending:
            by_part.setdefault(self.keys.partition_of(d.id), []).append((i, d))

        # One round trip for the ids' current doc numbers, one for what they hold.
        pipe = self.client.pipeline(transaction=False)
        for p, group in by_part.items():
            pipe.hmget(self.keys.parts[p].ids, [d.id for _, d in group])
        current = dict(zip(by_part, pipe.execute() if by_part else [], strict=True))
        stored = self._stored_versions(
            [self.keys.number(p, int(c)) for p, cs in current.items() for c in cs if c is not None]
        )
        writes: dict[int, list[tuple[int, PreparedDoc, bytes | None, Any]]] = {}
        for p, group in by_part.items():
            for (i, doc), cur in zip(group, current[p], strict=True):
                old: tuple[int, np.ndarray] | None = None
                if cur is not None:
                    meta, sig = stored[self.keys.number(p, int(cur))]
                    if layout.same_version(meta, doc.fields):
                        out[i] = PutResult(doc.id, "unchanged", [])
                        continue
                    old = (int(cur), sig)
                writes.setdefault(p, []).append((i, doc, cur, old))

        # One counter bump per partition reserves its new doc numbers.
        pipe = self.client.pipeline(transaction=False)
        for p, todo in writes.items():
            pipe.hincrby(self.keys.parts[p].meta, layout.META_NEXT_DOC, len(todo))
        calls, order = [], []
        for (p, todo), last in zip(writes.items(), pipe.execute() if writes else [], strict=True):
            numbers = range(int(last) - len(todo) + 1, int(last) + 1)
            for n, (i, doc, cur, old) in zip(numbers, todo, strict=True):
                calls.append(self._put_args(self.keys.parts[p], doc, cur, n, old))
                order.append((i, doc, cur, old))
        if calls:
            replies = scripting.run_many(self.client, self._put, calls)
            for (i, doc, _, old), reply in zip(order, replies, strict=True):
                if bytes(reply) == b"OK":
                    out[i] = PutResult(doc.id, "replaced" if old else "created", [])
                else:  # CONFLICT: the id moved since it was read; the single path retries
                    result = self.put(batch[i], limit=0)
                    out[i] = PutResult(result.id, result.status, [])
        return [r for r in out if r is not None]

    def _stored_versions(self, numbers: list[int]) -> dict[int, _StoredVersion]:
        """Identity fields and signature of each stored doc number, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for n in numbers:
            pipe.hmget(self.keys.doc(n), layout.IDENTITY_FIELDS)
            self._fetch_signature(pipe, n)
        replies = pipe.execute() if numbers else []
        return {
            n: (meta, self._signature(raw))
            for n, meta, raw in zip(numbers, replies[0::2], replies[1::2], strict=True)
        }

    def _fetch_signature(self, client: redis.Redis | redis.client.Pipeline, n: int) -> Any:
        """GETRANGE of the signature slot of global doc number ``n`` (queued when
        ``client`` is a pipeline)."""
        off = sig_offset(n, self.config.num_perm)
        width = layout.sig_width(self.config.num_perm)
        return client.getrange(self.keys.sig_block(n), off, off + width - 1)

    def _signature(self, raw: bytes) -> np.ndarray:
        """A signature slot's bytes as uint32 (a slot past the block's end reads as zeros)."""
        return layout.decode_signature(raw, self.config.num_perm)

    def _read_signature(self, n: int) -> np.ndarray:
        return self._signature(self._fetch_signature(self.client, n))

    @staticmethod
    def _lsh_args(part: Keys) -> list[str | int]:
        """A partition's LSH key prefix and shard count: the scripts build each
        band's shard key and field from them exactly as ``Keys.lsh`` and
        ``band_field`` do."""
        return [part.lsh_prefix, part.lsh_shards]

    @staticmethod
    def _fp_args(part: Keys) -> list[str | int]:
        """A partition's fingerprint key prefix and shard count (``Keys.fp`` in the scripts)."""
        return [part.fp_prefix, part.fp_shards]

    def _put_args(
        self,
        part: Keys,
        doc: PreparedDoc,
        cur: bytes | str | None,
        n: int,
        old: tuple[int, np.ndarray] | None,
    ) -> tuple[list[str], list[bytes | str | int | float]]:
        """KEYS and ARGV of ``put.lua`` (its header documents them): ``n`` and
        the old version's number are numbers inside ``part``."""
        if old is not None:
            old_n, old_sig = old
            old_bands = pack_u32s(band_keys(old_sig, self.config))
            old_doc, old_block = part.doc(old_n), part.sig_block(old_n)
            old_packed = pack_u32(old_n)
            old_off = sig_offset(old_n, self.config.num_perm)
        else:
            old_bands = b""
            old_doc, old_block = part.doc(n), part.sig_block(n)
            old_packed, old_off = b"", 0
        fps = unpack_u32s(doc.fingerprints)
        prefix, shards = part.fp_prefix, part.fp_shards
        keys = [
            part.ids,
            part.bytime,
            part.doc(n),
            part.sig_block(n),
            old_doc,
            old_block,
            *(f"{prefix}{s}" for s in (fps % shards).tolist()),  # Keys.fp, for every one
        ]
        args: list[bytes | str | int | float] = [
            doc.id,
            cur or b"",
            n,
            pack_u32(n),
            old_packed,
            doc.signature,
            sig_offset(n, self.config.num_perm),
            old_off,
            doc.time_score,
            self._sig_block_bytes,
            *self._lsh_args(part),
            doc.bands,
            old_bands,
            *self._fp_args(part),
            len(fps),
            FINGERPRINT_CAP,
            *layout.fp_fields(doc.fingerprints),
            *(x for kv in doc.fields.items() for x in kv),
        ]
        return keys, args

    def delete(self, article_id: str) -> bool:
        """Remove ``article_id`` and every trace of it. False if it was not indexed."""
        self._ensure()
        p = self.keys.partition_of(article_id)
        part = self.keys.parts[p]
        for attempt in range(_MAX_RETRIES):
            cur = self.client.hget(part.ids, article_id)
            if cur is None:
                return False
            n = int(cur)
            sig = self._read_signature(self.keys.number(p, n))
            keys, args = self._remove_args(part, article_id, n, sig)
            result = self._remove(keys=keys, args=args)
            if result == b"OK":
                return True
            if result == b"MISSING":
                return False
            _back_off(attempt)
        raise Contention(article_id, "delete", _MAX_RETRIES)

    def expire(self, before: float, *, batch: int = 500) -> int:
        """Remove up to ``batch`` of the oldest articles whose time score
        (``published_at``, else ingest time; epoch seconds) is below ``before``.

        Each article leaves every structure (id, doc, signature slot, LSH
        entries, time index) in one atomic script, as ``delete`` does; the
        scripts travel in one pipeline. Returns how many were removed; call
        again until it returns 0 (``service.retention.sweep`` does).
        """
        self._ensure()
        pipe = self.client.pipeline(transaction=False)
        for part in self.keys.parts:  # up to ``batch`` of each partition
            pipe.zrangebyscore(part.bytime, "-inf", f"({before}", 0, batch)
        found = [
            (p, int(m))
            for p, members in enumerate(pipe.execute())
            for m in cast("list[bytes]", members)
        ]
        if not found:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for p, n in found:
            pipe.hget(self.keys.parts[p].doc(n), layout.ID)
            self._fetch_signature(pipe, self.keys.number(p, n))
        replies = pipe.execute()
        calls: list[scripting.Call] = []
        pipe = self.client.pipeline(transaction=False)
        for (p, n), article_id, raw in zip(found, replies[0::2], replies[1::2], strict=True):
            part = self.keys.parts[p]
            if article_id is None:  # no doc behind the time entry: drop the entry alone
                pipe.zrem(part.bytime, n)
                continue
            calls.append(self._remove_args(part, article_id, n, self._signature(raw)))
        pipe.execute()
        return sum(reply == b"OK" for reply in scripting.run_many(self.client, self._remove, calls))

    def _remove_args(
        self, part: Keys, article_id: bytes | str, n: int, sig: np.ndarray
    ) -> tuple[list[str], list[bytes | str | int]]:
        """KEYS and ARGV of ``remove.lua`` (its header documents them); ``n``
        is the doc's number inside ``part``."""
        return (
            [part.ids, part.bytime, part.doc(n), part.sig_block(n)],
            [
                article_id,
                str(n),
                pack_u32(n),
                sig_offset(n, self.config.num_perm),
                layout.sig_width(self.config.num_perm),
                *self._lsh_args(part),
                pack_u32s(band_keys(sig, self.config)),
                *self._fp_args(part),
            ],
        )

    # -- reads -------------------------------------------------------------
    def get(self, article_id: str) -> StoredArticle | None:
        self._ensure()
        part = self.keys.for_id(article_id)
        cur = self.client.hget(part.ids, article_id)
        if cur is None:
            return None
        raw = self.client.hgetall(part.doc(int(cur)))
        if not raw:
            return None
        return layout.decode_doc(cast(dict[bytes, bytes], raw))  # the client never decodes

    def count(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        for part in self.keys.parts:
            pipe.hlen(part.ids)
        return sum(int(n) for n in pipe.execute())

    def ids(self) -> Iterator[str]:
        for part in self.keys.parts:
            for raw_id, _ in self.client.hscan_iter(part.ids, count=1000):
                yield raw_id.decode()

    def match_text(self, text: str, *, limit: int = 20) -> list[Match]:
        """Matches of an unstored text, ranked best first."""
        self._ensure()
        analysis = analyse(text, self.config)
        if analysis.empty:
            raise EmptyText(EMPTY_TEXT)
        return self._located(text, self._query(analysis, exclude=set(), limit=limit))

    def matches_of(self, article_id: str, *, limit: int = 20) -> list[Match] | None:
        """Matches of a stored article against the rest; None if it is unknown."""
        self._ensure()
        p = self.keys.partition_of(article_id)
        cur = self.client.hget(self.keys.parts[p].ids, article_id)
        if cur is None:
            return None
        n = self.keys.number(p, int(cur))
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(
            self.keys.doc(n), layout.SHINGLES, layout.NARRATIVE, layout.FINGERPRINTS, layout.TEXT
        )
        self._fetch_signature(pipe, n)
        (hashes, narrative, fps, text), raw_sig = pipe.execute()
        if hashes is None:
            return None
        bands = band_keys(self._signature(raw_sig), self.config)
        query = layout.decode_shingles(hashes, narrative)
        matches = self._query_narrow(query, bands, unpack_u32s(fps), {n}, limit)
        return self._located(decode_text(text), matches)

    def candidates(self, bands: np.ndarray, fingerprints: np.ndarray | None = None) -> Counter[int]:
        """Doc numbers sharing at least one band bucket (or passage fingerprint),
        with the number of band buckets shared.

        One round trip (``lua/query.lua``), as for a full query, but every
        entry of every bucket (no ``max_bucket``) and every candidate.
        """
        fps = np.empty(0, np.uint32) if fingerprints is None else fingerprints
        rows = self._lookup(bands, fps, exclude=set(), limit=0, with_docs=False, max_bucket=0)
        return Counter({row.number: row.shared_bands for row in rows})

    def _lookup(
        self,
        bands: np.ndarray,
        fingerprints: np.ndarray,
        *,
        exclude: set[int],
        limit: int,
        with_docs: bool,
        max_bucket: int | None = None,
        passage_limit: int = 0,
    ) -> list[_Candidate]:
        """Every partition's candidates (``lua/query.lua``, one call each, in
        parallel threads when there are several), with global doc numbers.
        Each partition chooses its own ``limit`` and ``passage_limit``: an
        index of P partitions verifies up to P times as many candidates."""
        packed_bands, packed_fps = pack_u32s(bands), pack_u32s(fingerprints)
        bucket_cap = self.max_bucket if max_bucket is None else max_bucket
        width = 9 if with_docs else 3

        def ask(p: int) -> list[_Candidate]:
            part = self.keys.parts[p]
            left_out = sorted(n for q, n in map(self.keys.split, exclude) if q == p)
            args: list[Any] = [
                part.doc_prefix,
                limit,
                pack_u32s(np.array(left_out)),
                "1" if with_docs else "0",
                *self._lsh_args(part),
                packed_bands,
                bucket_cap,
                *self._fp_args(part),
                packed_fps,
                passage_limit,
                FINGERPRINT_CAP,  # a full list is a stock passage: no candidates
                MAX_SINGLE_FINGERPRINT_CANDIDATES,
            ]
            flat: list[Any] = self._query_script(keys=[part.ids], args=args)
            # query.lua returns one flat list (see its note on why): a row per candidate.
            return [
                _Candidate(
                    self.keys.number(p, int.from_bytes(flat[i], "little")),
                    int(flat[i + 1]),
                    int(flat[i + 2]),
                    *flat[i + 3 : i + width],
                )
                for i in range(0, len(flat), width)
            ]

        if self.partitions == 1:
            return ask(0)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(min(self.partitions, 16), "copydesk-query")
        return [row for rows in self._pool.map(ask, range(self.partitions)) for row in rows]

    def _query(self, analysis: Analysis, *, exclude: set[int], limit: int) -> list[Match]:
        query = narrow(analysis.shingles)
        return self._query_narrow(query, analysis.bands, analysis.fingerprints, exclude, limit)

    def _query_narrow(
        self,
        query: Shingles,
        bands: np.ndarray,
        fingerprints: np.ndarray,
        exclude: set[int],
        limit: int,
    ) -> list[Match]:
        """Candidates (the most shared bands first, then the most shared passage
        fingerprints) with their stored shingle sets and metadata, in one round
        trip; then exact scores, verdicts, ranking."""
        passages = self.max_passage_candidates
        rows = self._lookup(
            bands,
            fingerprints if passages else np.empty(0, np.uint32),
            exclude=exclude,
            limit=self.max_candidates,
            with_docs=True,
            passage_limit=passages,
        )
        # A row whose doc was deleted since its band entry was read has no id.
        found = [r for r in rows if r.id is not None and r.hashes is not None]
        stored = [(cast(bytes, r.hashes), r.narrative or b"") for r in found]
        matches: list[Match] = []
        for row, scores in zip(found, compare_packed(query, stored), strict=True):
            verdict = scores.verdict(self.thresholds)
            if verdict is None:
                continue
            matches.append(
                Match(
                    id=cast(bytes, row.id).decode(),
                    title=decode_str(row.title),
                    source=decode_str(row.source),
                    published_at=decode_str(row.published_at),
                    jaccard=scores.jaccard,
                    containment=scores.containment,
                    reverse_containment=scores.reverse_containment,
                    shared_shingles=scores.shared,
                    verdict=verdict,
                    number=row.number,
                )
            )
        matches.sort(
            key=lambda m: (
                _VERDICT_RANK[m.verdict],
                -max(m.containment, m.reverse_containment),
                -m.jaccard,
                m.id,
            )
        )
        return matches[:limit]

    def _located(self, query_text: str, matches: list[Match]) -> list[Match]:
        """``matches`` with their shared passages and shares: the matched texts
        in one round trip, then ``shingling.shared_passages`` on each pair (it
        re-tokenises both texts: ~0.3 ms a pair of news articles)."""
        if not matches:
            return matches
        pipe = self.client.pipeline(transaction=False)
        for m in matches[:MAX_LOCATED]:
            pipe.hget(self.keys.doc(m.number), layout.TEXT)
        query = locate(query_text, self.config)
        out = []
        for m, raw in zip(matches, pipe.execute(), strict=False):
            if raw is None:  # removed since it was verified: report it without passages
                out.append(m)
                continue
            shared = shared_passages(query, decode_text(raw), self.config)
            out.append(
                replace(
                    m,
                    passages=shared.passages,
                    query_share=shared.a_share,
                    match_share=shared.b_share,
                )
            )
        return out + matches[len(out) :]
