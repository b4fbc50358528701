"""The article index in Redis: atomic writes, and the reads a query needs.

``Index`` reads and writes; it leaves to its neighbours how the config is
claimed (``meta``), how each stored field is encoded (``layout``), how each
Lua script is called (``script_args``), and how candidates become ranked
matches (``query``, whose docstring says what LSH may miss).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal, cast

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
    Contention,
    EmptyText,
    Match,
    MatchesUnavailable,
    MatchRewrite,
    PutResult,
    StoredArticle,
)
from service.settings import Settings
from service.storage import layout, meta, script_args, scripting
from service.storage.keys import (
    DEFAULT_LSH_SHARDS,
    FINGERPRINTS_PER_ARTICLE,
    IndexKeys,
    Keys,
    lsh_shards_for,
)
from service.storage.layout import (
    PreparedDoc,
    decode_text,
    encode_doc,
    pack_u32s,
    sig_offset,
    unpack_u32s,
)
from service.storage.query import (
    Candidate,
    RewritePass,
    judge_match,
    parse_candidates,
    rewrite_order,
    rewritten_matches,
    score_rows,
    verify,
    with_passages,
)
from service.storage.script_args import OldVersion
from shingling import (
    Analysis,
    PipelineConfig,
    Thresholds,
    analyse,
    band_keys,
)
from shingling.shingles import Shingles, narrow

_StoredVersion = tuple[list[bytes | None], np.ndarray]  # identity fields, signature
_MAX_RETRIES = 8


def _back_off(attempt: int) -> None:
    """Wait a random 0-1, 0-2, 0-4 ... ms (capped at 64 ms) after losing race
    ``attempt``, so that writers racing for one id stop colliding in lockstep."""
    time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.064)))


def _now() -> datetime:
    return datetime.now(UTC)


def analyse_article(article: ArticleIn, config: PipelineConfig) -> PreparedDoc | EmptyText:
    """Analyse ``article`` into the ``PreparedDoc`` an index writes (pure CPU:
    the part of bulk ingest that can run in other processes). ``EmptyText``
    when it has no words."""
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
        max_located: int = MAX_LOCATED,
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
        #: Matches of a reply that carry their passages (0: none, and no text read).
        self.max_located = max_located
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
            max_located=settings.max_located,
            capacity=settings.capacity,
            partitions=settings.partitions,
        )

    # -- configuration -------------------------------------------------
    def check_config(self) -> None:
        """Claim an empty index for this config, or refuse one built otherwise
        (``meta.claim_config``); an existing index's keys replace the asked ones."""
        keys = meta.claim_config(self.client, self.config, self.keys, self._wanted_partitions)
        if keys != self.keys:
            self.keys = keys
        self._config_checked = True

    @property
    def partitions(self) -> int:
        return len(self.keys.parts)

    def _ensure(self) -> None:
        if not self._config_checked:
            self.check_config()

    # -- writes ----------------------------------------------------------
    def put(
        self, article: ArticleIn, *, limit: int = 20, rewrites: RewritePass | None = None
    ) -> PutResult:
        """Index ``article`` atomically; same id and text again is a no-op.
        ``rewrites``: also have the aligner judge matches (``_matches``)."""
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
                    matches = self._query(
                        article.text, analysis, exclude={old_n}, limit=limit, rewrites=rewrites
                    )
                    return PutResult(doc.id, "unchanged", matches)
                old = (int(cur), old_sig)
            n = int(self.client.hincrby(part.meta, layout.META_NEXT_DOC, 1))
            keys, args = self._put_args(part, doc, cur, n, old)
            if self._put(keys=keys, args=args) == b"OK":
                status: Literal["created", "replaced"] = "replaced" if old else "created"
                exclude = {self.keys.number(p, n)}
                try:
                    matches = self._query(
                        article.text, analysis, exclude=exclude, limit=limit, rewrites=rewrites
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
        return self.write_prepared(batch, [analyse_article(a, self.config) for a in batch])

    def write_prepared(
        self, batch: list[ArticleIn], docs: list[PreparedDoc | EmptyText]
    ) -> list[PutResult | EmptyText]:
        """The Redis half of ``put_many``: ``docs[i]`` is ``analyse_article(batch[i], config)``."""
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

    def _put_args(
        self,
        part: Keys,
        doc: PreparedDoc,
        cur: bytes | str | None,
        n: int,
        old: OldVersion | None,
    ) -> tuple[list[str], list[bytes | str | int | float]]:
        """KEYS and ARGV of ``put.lua`` (``script_args.put_args``)."""
        return script_args.put_args(part, self.config, doc, cur, n, old)

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
        """KEYS and ARGV of ``remove.lua`` (``script_args.remove_args``)."""
        return script_args.remove_args(part, self.config, article_id, n, sig)

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

    def match_text(
        self, text: str, *, limit: int = 20, rewrites: RewritePass | None = None
    ) -> list[Match]:
        """Matches of an unstored text, ranked best first (``rewrites``: also
        judged by the aligner, ``_matches``)."""
        self._ensure()
        analysis = analyse(text, self.config)
        if analysis.empty:
            raise EmptyText(EMPTY_TEXT)
        return self._query(text, analysis, exclude=set(), limit=limit, rewrites=rewrites)

    def matches_of(
        self, article_id: str, *, limit: int = 20, rewrites: RewritePass | None = None
    ) -> list[Match] | None:
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
        return self._matches(
            decode_text(text), query, bands, unpack_u32s(fps), {n}, limit, rewrites
        )

    def candidates(self, bands: np.ndarray, fingerprints: np.ndarray | None = None) -> Counter[int]:
        """Doc numbers sharing at least one band bucket (or passage fingerprint),
        with the number of band buckets shared.

        One round trip (``lua/query.lua``), as for a full query, but every
        entry of every bucket (no ``max_bucket``) and every candidate.
        """
        fps = np.empty(0, np.uint32) if fingerprints is None else fingerprints
        rows = self.lookup(bands, fps, exclude=set(), limit=0, with_docs=False, max_bucket=0)
        return Counter({row.number: row.shared_bands for row in rows})

    def lookup(
        self,
        bands: np.ndarray,
        fingerprints: np.ndarray,
        *,
        exclude: set[int],
        limit: int,
        with_docs: bool,
        max_bucket: int | None = None,
        passage_limit: int = 0,
    ) -> list[Candidate]:
        """Every partition's candidates (``lua/query.lua``, one call each, in
        parallel threads when there are several), with global doc numbers.

        ``exclude``: global doc numbers left out; ``limit``: candidates by
        shared bands (0: all); ``with_docs``: with the doc fields verifying
        needs; ``max_bucket``: newest entries read of a bucket (None: the
        index's ``max_bucket``, 0: all); ``passage_limit``: more candidates by
        shared fingerprints. Each partition chooses its own ``limit`` and
        ``passage_limit``: an index of P partitions verifies up to P times as
        many candidates."""
        packed_bands, packed_fps = pack_u32s(bands), pack_u32s(fingerprints)
        bucket_cap = self.max_bucket if max_bucket is None else max_bucket

        def ask(p: int) -> list[Candidate]:
            keys, args = script_args.query_args(
                self.keys.parts[p],
                bands=packed_bands,
                fingerprints=packed_fps,
                left_out=(n for q, n in map(self.keys.split, exclude) if q == p),
                limit=limit,
                with_docs=with_docs,
                max_bucket=bucket_cap,
                passage_limit=passage_limit,
                max_single_fingerprint=MAX_SINGLE_FINGERPRINT_CANDIDATES,
            )
            flat: list[Any] = self._query_script(keys=keys, args=args)
            return parse_candidates(flat, with_docs, lambda n: self.keys.number(p, n))

        if self.partitions == 1:
            return ask(0)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(min(self.partitions, 16), "copydesk-query")
        return [row for rows in self._pool.map(ask, range(self.partitions)) for row in rows]

    def _query(
        self,
        text: str,
        analysis: Analysis,
        *,
        exclude: set[int],
        limit: int,
        rewrites: RewritePass | None,
    ) -> list[Match]:
        query = narrow(analysis.shingles)
        return self._matches(
            text, query, analysis.bands, analysis.fingerprints, exclude, limit, rewrites
        )

    def _matches(
        self,
        text: str,
        query: Shingles,
        bands: np.ndarray,
        fingerprints: np.ndarray,
        exclude: set[int],
        limit: int,
        rewrites: RewritePass | None,
    ) -> list[Match]:
        """Candidates (the most shared bands first, then the most shared passage
        fingerprints) with their stored shingle sets and metadata, in one round
        trip; then exact scores, verdicts, ranking (``query.verify``) and the
        shared passages of the best (``_located``). With ``rewrites``, the
        pairs ``query.rewrite_order`` picks are aligned with ``text`` first
        (their texts in one more round trip) and may change verdict
        (``query.rewritten_matches``)."""
        passages = self.max_passage_candidates
        rows = self.lookup(
            bands,
            fingerprints if passages else np.empty(0, np.uint32),
            exclude=exclude,
            limit=self.max_candidates,
            with_docs=True,
            passage_limit=passages,
        )
        if rewrites is None or rewrites.pairs == 0:
            return self._located(text, verify(query, rows, self.thresholds, limit))
        scored = score_rows(query, rows)
        todo = rewrite_order(scored, self.thresholds, rewrites)
        pipe = self.client.pipeline(transaction=False)
        for i in todo:
            pipe.hget(self.keys.doc(scored[i][0].number), layout.TEXT)
        judged: dict[int, MatchRewrite] = {}
        for i, raw in zip(todo, pipe.execute() if todo else [], strict=True):
            rewrite = None if raw is None else judge_match(text, decode_text(raw), rewrites)
            if rewrite is not None:
                judged[i] = rewrite
        return self._located(text, rewritten_matches(scored, self.thresholds, judged, limit))

    def _located(self, query_text: str, matches: list[Match]) -> list[Match]:
        """``matches`` with their shared passages (``query.with_passages``): the
        texts of the first ``max_located`` in one round trip."""
        if not matches or not self.max_located:
            return matches
        pipe = self.client.pipeline(transaction=False)
        for m in matches[: self.max_located]:
            pipe.hget(self.keys.doc(m.number), layout.TEXT)
        return with_passages(query_text, matches, pipe.execute(), self.config)
