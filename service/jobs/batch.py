"""Batch clustering over the whole index, run as a job with its state in Redis.

A job reads every stored signature in bulk (HSCAN of the id map, then the
``sig`` blocks with pipelined GETs: about one round trip per 32 blocks of
1024 articles, never one per article), runs ``shingling.families`` over them,
and stores its status, progress, summary and result as JSON under the
``job`` / ``job_result`` / ``jobs`` keys of ``service.storage.keys``.

Worker: each job runs in its own child process, spawned by the process that
accepted it (``JobRunner``). Why not a thread: the linking is CPU-bound numpy
and Python, and in a thread of the API process it holds the GIL against the
request handlers (bench/batch_job.py ``latency`` measures the difference,
see docs/clustering.md). Why not rq/arq: both need a separately deployed,
supervised worker process and a new dependency for what is one long call per
job; a child the service owns needs neither, and the state lives in Redis
anyway. One job at a time per index: a second POST while one is queued or
running is refused with 409 naming the active job.

Crash safety: the worker claims a job atomically (``queued`` -> ``running``)
and records its owner (``host:pid``) and a heartbeat it refreshes every few
seconds from a thread. Whoever reads a job (API, CLI) first checks it: a job
whose owner process is gone (same host), whose heartbeat is older than
``stale_after``, or that stayed ``queued`` longer than that, is marked
``failed`` with an error saying so. So a job interrupted by a restart is
reported ``failed`` on the next read, never stuck ``running``.

Consistency: the job sees the index as it is while it reads; articles written
or deleted during the read may be missed or dropped (a replaced article's
old slot reads as zeros and is skipped). Results are approximate where
``shingling.families`` says so (LSH candidates; ``estimate`` verification).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

import numpy as np
import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.typing import EncodableT, FieldT

from service.storage.keys import SIG_BLOCK_BITS, IndexKeys, load_keys
from shingling import PipelineConfig, Shingles, Thresholds, shingle
from shingling.families import (
    DEFAULT_WIRE_SOURCES,
    Cluster,
    ClusterParams,
    ShingleVerifier,
    SignatureVerifier,
    Stats,
    link,
    name_clusters,
)
from shingling.shingles import narrow, unpack
from shingling.signature import SIG_DTYPE

log = logging.getLogger("copydesk.clustering")

Status = Literal["queued", "running", "done", "failed"]
VerifyMode = Literal["auto", "exact", "estimate"]
ACTIVE = ("queued", "running")

#: Finished jobs and their results expire after this long (seconds).
JOB_TTL = 7 * 24 * 3600
#: ``auto`` verification is exact (the stored shingle sets, read in bulk)
#: up to this many articles, then estimated from signatures.
EXACT_LIMIT = 20_000
_BLOCKS_PER_ROUND_TRIP = 32
_DOCS_PER_ROUND_TRIP = 500
_CONN_KEYS = {
    "host",
    "port",
    "db",
    "username",
    "password",
    "path",
    "socket_timeout",
    "socket_connect_timeout",
    "client_name",
    "health_check_interval",
}


def _now() -> float:
    return time.time()


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobParams:
    """What a job was asked to do (stored with it, JSON)."""

    verify: VerifyMode = "auto"
    since: float | None = None  # epoch seconds (published_at, else ingest time)
    until: float | None = None
    thresholds: dict[str, float] = field(default_factory=dict)  # Thresholds overrides
    max_bucket: int = ClusterParams.max_bucket
    slot_bands: int = ClusterParams.slot_bands
    passages: bool = ClusterParams.passages

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobParams:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    status: Status
    progress: float
    error: str | None
    summary: dict[str, Any] | None
    params: dict[str, Any]
    created_at: float
    started_at: float | None
    finished_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobStore:
    """Job records of one index. The Redis client is passed in."""

    def __init__(self, client: redis.Redis, keys: IndexKeys, *, stale_after: float = 30.0) -> None:
        self.client = client
        self.keys = keys
        self.stale_after = stale_after

    # -- life cycle ------------------------------------------------------
    def create(self, params: JobParams) -> str:
        job_id = uuid.uuid4().hex
        now = _now()
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            self.keys.job(job_id),
            mapping={
                "status": "queued",
                "progress": "0",
                "params": params.to_json(),
                "created_at": repr(now),
                "heartbeat": repr(now),
            },
        )
        pipe.expire(self.keys.job(job_id), JOB_TTL)
        pipe.zadd(self.keys.jobs, {job_id: now})
        pipe.zremrangebyscore(self.keys.jobs, "-inf", now - JOB_TTL)
        pipe.execute()
        return job_id

    def claim(self, job_id: str, owner: str | None = None) -> bool:
        """``queued`` -> ``running`` for ``owner``; False if someone else has it."""
        key = self.keys.job(job_id)
        now = repr(_now())

        def txn(pipe: redis.client.Pipeline) -> bool:
            if pipe.hget(key, "status") != b"queued":
                return False
            pipe.multi()
            pipe.hset(
                key,
                mapping={
                    "status": "running",
                    "owner": owner or _owner(),
                    "started_at": now,
                    "heartbeat": now,
                },
            )
            return True

        # redis-py types the callable as returning None; value_from_callable uses ours.
        return bool(self.client.transaction(txn, key, value_from_callable=True))  # type: ignore[arg-type]

    def beat(self, job_id: str, progress: float | None = None) -> None:
        mapping: dict[FieldT, EncodableT] = {"heartbeat": repr(_now())}
        if progress is not None:
            mapping["progress"] = f"{min(max(progress, 0.0), 1.0):.4f}"
        self.client.hset(self.keys.job(job_id), mapping=mapping)

    def finish(self, job_id: str, summary: dict[str, Any], clusters: list[Cluster]) -> None:
        result = json.dumps({"clusters": [asdict(c) for c in clusters]}, ensure_ascii=False)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.keys.job_result(job_id), result, ex=JOB_TTL)
        pipe.hset(
            self.keys.job(job_id),
            mapping={
                "status": "done",
                "progress": "1",
                "summary": json.dumps(summary),
                "finished_at": repr(_now()),
            },
        )
        pipe.execute()

    def fail(self, job_id: str, error: str, *, only_if: dict[str, bytes] | None = None) -> bool:
        """Mark failed; with ``only_if``, only while those fields still hold those values."""
        key = self.keys.job(job_id)

        def txn(pipe: redis.client.Pipeline) -> bool:
            if only_if:
                current = pipe.hmget(key, list(only_if))
                if list(current) != list(only_if.values()):
                    return False
            pipe.multi()
            failed: dict[FieldT, EncodableT] = {
                "status": "failed",
                "error": error,
                "finished_at": repr(_now()),
            }
            pipe.hset(key, mapping=failed)
            return True

        return bool(self.client.transaction(txn, key, value_from_callable=True))  # type: ignore[arg-type]

    # -- reads -------------------------------------------------------------
    def get(self, job_id: str) -> JobStatus | None:
        """The job, after checking that a queued or running one is still alive."""
        # The client does not decode responses: every reply is bytes.
        raw = cast("dict[bytes, bytes]", self.client.hgetall(self.keys.job(job_id)))
        if not raw:
            return None
        if raw.get(b"status", b"").decode() in ACTIVE and self._reap(job_id, raw):
            raw = cast("dict[bytes, bytes]", self.client.hgetall(self.keys.job(job_id)))
        return _status(job_id, raw)

    def result(self, job_id: str) -> bytes | None:
        raw = cast("bytes | None", self.client.get(self.keys.job_result(job_id)))
        return bytes(raw) if raw is not None else None

    def recent(self, limit: int = 20) -> list[JobStatus]:
        ids = cast("list[bytes]", self.client.zrevrange(self.keys.jobs, 0, limit - 1))
        jobs = (self.get(j.decode()) for j in ids)
        return [j for j in jobs if j is not None]

    def active(self) -> JobStatus | None:
        """A queued or running job of this index, if any (dead ones are reaped)."""
        ids = cast("list[bytes]", self.client.zrevrange(self.keys.jobs, 0, -1))
        for job_id in ids:
            job = self.get(job_id.decode())
            if job is not None and job.status in ACTIVE:
                return job
        return None

    def sweep(self) -> list[str]:
        """Reap every dead job (start-up); returns the ids marked failed."""
        reaped = []
        for job_id in cast("list[bytes]", self.client.zrange(self.keys.jobs, 0, -1)):
            before = self.client.hget(self.keys.job(job_id.decode()), "status")
            job = self.get(job_id.decode())
            if job is not None and job.status == "failed" and before in (b"queued", b"running"):
                reaped.append(job.job_id)
        return reaped

    def _reap(self, job_id: str, raw: dict[bytes, bytes]) -> bool:
        reason = self._dead(raw)
        if reason is None:
            return False
        expect = {"status": raw[b"status"], "heartbeat": raw.get(b"heartbeat", b"")}
        done = self.fail(job_id, reason, only_if=expect)
        if done:
            log.warning("clustering job %s marked failed: %s", job_id, reason)
        return done

    def _dead(self, raw: dict[bytes, bytes]) -> str | None:
        status = raw[b"status"].decode()
        age = _now() - float(raw.get(b"heartbeat", b"0"))
        if status == "queued":
            if age > self.stale_after:
                return (
                    f"never started: no worker claimed it within {self.stale_after:.0f}s "
                    "(the service probably restarted); start a new job"
                )
            return None
        owner = raw.get(b"owner", b"").decode()
        host, _, pid = owner.rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            return (
                f"interrupted: worker process {owner} is gone (restart or crash); start a new job"
            )
        if age > self.stale_after:
            return (
                f"interrupted: no heartbeat from worker {owner} for {age:.0f}s "
                "(restart or crash); start a new job"
            )
        return None


def _alive(pid: int) -> bool:
    mp.active_children()  # reaps our own finished children, so they are not zombies
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is gone too
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _status(job_id: str, raw: dict[bytes, bytes]) -> JobStatus:
    def f(name: str) -> float | None:
        v = raw.get(name.encode())
        return float(v) if v is not None else None

    summary = raw.get(b"summary")
    error = raw.get(b"error")
    return JobStatus(
        job_id=job_id,
        status=raw[b"status"].decode(),  # type: ignore[arg-type]
        progress=float(raw.get(b"progress", b"0")),
        error=error.decode() if error is not None else None,
        summary=json.loads(summary) if summary else None,
        params=json.loads(raw.get(b"params", b"{}")),
        created_at=f("created_at") or 0.0,
        started_at=f("started_at"),
        finished_at=f("finished_at"),
    )


# -- reading the index in bulk ------------------------------------------------
@dataclass
class Snapshot:
    """Live articles of the index: doc numbers, ids and signatures, row-aligned."""

    docs: np.ndarray  # int64 doc numbers
    ids: list[str]
    sigs: np.ndarray  # (n, num_perm) uint32


def load_fingerprints(client: redis.Redis, keys: IndexKeys, docs: np.ndarray) -> list[np.ndarray]:
    """Each doc's own passage fingerprints (its ``fp`` field), pipelined; empty
    for a doc deleted since the snapshot."""
    out: list[np.ndarray] = []
    for i in range(0, len(docs), _DOCS_PER_ROUND_TRIP):
        pipe = client.pipeline(transaction=False)
        for n in docs[i : i + _DOCS_PER_ROUND_TRIP]:
            pipe.hget(keys.doc(int(n)), "fp")
        out.extend(np.frombuffer(raw or b"", dtype=SIG_DTYPE) for raw in pipe.execute())
    return out


def load_signatures(
    client: redis.Redis,
    keys: IndexKeys,
    config: PipelineConfig,
    *,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> Snapshot:
    """Every live article's signature, read in bulk (see the module docstring)."""
    by_doc = read_ids(client, keys, since=since, until=until)
    docs = np.array(sorted(by_doc), dtype=np.int64)
    sigs = read_signatures(client, keys, config.num_perm, docs, progress=progress)
    # A slot of zeros: the article was replaced or deleted while we read.
    live = sigs.any(axis=1)
    return Snapshot(docs[live], [by_doc[int(n)] for n in docs[live]], sigs[live])


def read_ids(
    client: redis.Redis, keys: IndexKeys, *, since: float | None = None, until: float | None = None
) -> dict[int, str]:
    """Doc number -> article id of every article (published in the window, if given)."""
    by_doc: dict[int, str] = {}
    for p, part in enumerate(keys.parts):
        for raw_id, raw_n in client.hscan_iter(part.ids, count=10_000):
            by_doc[keys.number(p, int(raw_n))] = raw_id.decode()
    if since is not None or until is not None:
        lo = "-inf" if since is None else since
        hi = "+inf" if until is None else until
        window = {
            keys.number(p, int(n))
            for p, part in enumerate(keys.parts)
            for n in cast("list[bytes]", client.zrangebyscore(part.bytime, lo, hi))
        }
        by_doc = {n: i for n, i in by_doc.items() if n in window}
    return by_doc


def read_signatures(
    client: redis.Redis,
    keys: IndexKeys,
    num_perm: int,
    docs: np.ndarray,
    *,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """The signatures of sorted doc numbers ``docs``, a row each, read whole
    ``sig`` blocks at a time (pipelined); zeros where a slot is empty."""
    width = num_perm * 4
    sigs = np.zeros((len(docs), num_perm), dtype=SIG_DTYPE)
    block_of = docs >> SIG_BLOCK_BITS  # sorted, as docs is
    blocks = np.unique(block_of)
    slot = docs & ((1 << SIG_BLOCK_BITS) - 1)
    for i in range(0, len(blocks), _BLOCKS_PER_ROUND_TRIP):
        chunk = blocks[i : i + _BLOCKS_PER_ROUND_TRIP]
        pipe = client.pipeline(transaction=False)
        for blk in chunk:
            pipe.get(keys.sig_block(int(blk) << SIG_BLOCK_BITS))
        for blk, raw in zip(chunk, pipe.execute(), strict=True):
            lo, hi = np.searchsorted(block_of, [blk, blk + 1])
            rows = np.arange(lo, hi)
            buf = (raw or b"").ljust((1 << SIG_BLOCK_BITS) * width, b"\0")
            block = np.frombuffer(buf, dtype=SIG_DTYPE).reshape(-1, num_perm)
            sigs[rows] = block[slot[rows]]
        if progress is not None:
            progress(min(1.0, (i + len(chunk)) / max(len(blocks), 1)))
    return sigs


def _published(
    client: redis.Redis, keys: IndexKeys, docs: np.ndarray
) -> tuple[np.ndarray, list[str | None]]:
    """``published_at`` (epoch seconds, NaN when unknown) and ``source`` (None when
    unknown) of doc numbers, pipelined."""
    out = np.full(len(docs), np.nan)
    sources: list[str | None] = []
    for i in range(0, len(docs), _DOCS_PER_ROUND_TRIP):
        pipe = client.pipeline(transaction=False)
        for n in docs[i : i + _DOCS_PER_ROUND_TRIP]:
            pipe.hmget(keys.doc(int(n)), "published_at", "source")
        for j, (raw, source) in enumerate(pipe.execute()):
            if raw:
                out[i + j] = datetime.fromisoformat(raw.decode()).timestamp()
            sources.append(source.decode("utf-8", "replace") if source else None)
    return out, sources


def _shingles_from_redis(
    client: redis.Redis, keys: IndexKeys, config: PipelineConfig, docs: np.ndarray
) -> Callable[[Sequence[int]], list[Shingles]]:
    """The stored shingle sets (``sh``/``nq``, 32-bit, as the online path scores
    them) of doc rows, pipelined; re-shingled from the text where a document
    has no stored set."""
    empty = Shingles(np.empty(0, np.uint32), np.empty(0, np.uint32))

    def fetch(rows: Sequence[int]) -> list[Shingles]:
        out: list[Shingles] = []
        for i in range(0, len(rows), _DOCS_PER_ROUND_TRIP):
            pipe = client.pipeline(transaction=False)
            for r in rows[i : i + _DOCS_PER_ROUND_TRIP]:
                pipe.hmget(keys.doc(int(docs[r])), "sh", "nq", "text")
            for hashes, narrative, raw in pipe.execute():
                if hashes is not None:
                    out.append(unpack(hashes, narrative or b""))
                elif raw:
                    text = zlib.decompress(raw).decode("utf-8", "surrogatepass")
                    out.append(narrow(shingle(text, config)))
                else:  # deleted since the snapshot: an empty set links to nothing
                    out.append(empty)
        return out

    return fetch


def thresholds_for(base: Thresholds, overrides: dict[str, float]) -> Thresholds:
    known = set(Thresholds.__dataclass_fields__)
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown thresholds {sorted(unknown)}; known: {sorted(known)}")
    return Thresholds(**{**asdict(base), **overrides})


def summarise(articles: int, clusters: Sequence[Cluster]) -> dict[str, int]:
    """The head of a job's summary: what was clustered into what."""
    return {
        "articles": articles,
        "clusters": len(clusters),
        "clustered_articles": sum(len(c.members) for c in clusters),
        "largest_cluster": max((len(c.members) for c in clusters), default=0),
    }


def run_clusters(
    client: redis.Redis,
    keys: IndexKeys,
    config: PipelineConfig,
    thresholds: Thresholds,
    params: JobParams,
    progress: Callable[[float], None] | None = None,
    *,
    wire_sources: Sequence[str] = DEFAULT_WIRE_SOURCES,
) -> tuple[dict[str, Any], list[Cluster]]:
    """Read, link, name: the job's work. Returns (summary, clusters). Members
    whose ``source`` is one of ``wire_sources`` are preferred as origins."""
    report = progress or (lambda _: None)
    t0 = time.perf_counter()
    snap = load_signatures(
        client,
        keys,
        config,
        since=params.since,
        until=params.until,
        progress=lambda f: report(0.15 * f),
    )
    t_read = time.perf_counter() - t0
    mode = params.verify
    if mode == "auto":
        mode = "exact" if len(snap.ids) <= EXACT_LIMIT else "estimate"
    t = thresholds_for(thresholds, params.thresholds)
    exact = ShingleVerifier(_shingles_from_redis(client, keys, config, snap.docs), t)
    verifier = exact if mode == "exact" else SignatureVerifier(snap.sigs, config, t)
    cparams = ClusterParams(
        max_bucket=params.max_bucket,
        slot_bands=params.slot_bands,
        passages=params.passages,
        wire_sources=tuple(wire_sources),
    )
    stats = Stats()
    t_fp = time.perf_counter()
    fingerprints = load_fingerprints(client, keys, snap.docs) if params.passages else None
    t_read += time.perf_counter() - t_fp
    uf = link(
        snap.sigs,
        config,
        verifier,
        params=cparams,
        stats=stats,
        progress=lambda f: report(0.15 + 0.75 * f),
        fingerprints=fingerprints,
        # A signature cannot estimate a short passage's share of a long text:
        # passage pairs are always verified on the stored shingle sets.
        passage_verify=exact,
    )
    t1 = time.perf_counter()
    groups = uf.groups()
    member_rows = np.concatenate(groups) if groups else np.empty(0, np.int64)
    epochs = np.full(len(snap.ids), np.nan)
    sources: list[str | None] = [None] * len(snap.ids)
    epochs[member_rows], member_sources = _published(client, keys, snap.docs[member_rows])
    for row, source in zip(member_rows.tolist(), member_sources, strict=True):
        sources[row] = source
    clusters = name_clusters(
        groups,
        snap.ids,
        lambda rows: epochs[rows],
        verifier.containment_matrix,
        params=cparams,
        progress=lambda f: report(0.9 + 0.1 * f),
        sources=lambda rows: [sources[int(r)] for r in rows],
    )
    stats.timings["read"] = t_read
    stats.timings["origins"] = time.perf_counter() - t1
    summary = {
        **summarise(len(snap.ids), clusters),
        "verify": mode,
        "candidate_pairs": stats.candidate_pairs,
        "verified_pairs": stats.verified_pairs,
        "linked_pairs": stats.linked_pairs,
        "oversized_buckets": stats.oversized_buckets,
        "passage_pairs": stats.passage_pairs,
        "stock_fingerprints": stats.stock_fingerprints,
        "grey_pairs": getattr(verifier, "grey_pairs", 0),
        "seconds": round(time.perf_counter() - t0, 3),
        "timings": {k: round(v, 3) for k, v in stats.timings.items()},
    }
    return summary, clusters


def execute(
    client: redis.Redis,
    keys: IndexKeys,
    config: PipelineConfig,
    thresholds: Thresholds,
    job_id: str,
    *,
    heartbeat: float = 2.0,
    progress: Callable[[float], None] | None = None,
    wire_sources: Sequence[str] = DEFAULT_WIRE_SOURCES,
    run: Callable[..., tuple[dict[str, Any], list[Cluster]]] | None = None,
) -> JobStatus | None:
    """Claim ``job_id`` and run it here, with a heartbeat thread; record the outcome.

    ``run`` does the work, called as ``run_clusters`` is (the default); the
    Dask engine (service/jobs/dask_engine.py) passes its own."""
    store = JobStore(client, keys)
    if not store.claim(job_id):
        return store.get(job_id)
    stop = threading.Event()
    latest = {"progress": 0.0}

    def beat() -> None:
        while not stop.wait(heartbeat):
            try:
                store.beat(job_id, latest["progress"])
            except redis.RedisError as exc:  # the next beat retries
                log.warning("heartbeat of job %s failed: %s", job_id, exc)

    def on_progress(f: float) -> None:
        latest["progress"] = f
        if progress is not None:
            progress(f)

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        raw = client.hget(keys.job(job_id), "params")
        params = JobParams.from_json(raw) if raw else JobParams()
        summary, clusters = (run or run_clusters)(
            client, keys, config, thresholds, params, on_progress, wire_sources=wire_sources
        )
        stop.set()
        thread.join()
        store.finish(job_id, summary, clusters)
    except Exception as exc:  # any failure is the job's outcome, reported to its reader
        stop.set()
        log.exception("clustering job %s failed", job_id)
        store.fail(job_id, f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
    return store.get(job_id)


def connection_spec(client: redis.Redis) -> dict[str, Any]:
    """What a child process needs to open the same Redis (picklable): a
    connection pool's class and arguments, or a Redis Cluster's nodes."""
    if isinstance(client, RedisCluster):
        nodes = client.get_nodes()
        pool = nodes[0].redis_connection.connection_pool
        kwargs = {
            k: v
            for k, v in pool.connection_kwargs.items()
            if (k in _CONN_KEYS or k.startswith("ssl")) and k not in ("host", "port", "db")
        }
        return {"cluster": [(n.host, n.port) for n in nodes], "kwargs": kwargs}
    pool = client.connection_pool
    kwargs = {
        k: v for k, v in pool.connection_kwargs.items() if k in _CONN_KEYS or k.startswith("ssl")
    }
    return {"connection_class": pool.connection_class, "kwargs": kwargs}


def connect(spec: dict[str, Any]) -> redis.Redis:
    """A client of what ``connection_spec`` described."""
    if "cluster" in spec:
        nodes = [ClusterNode(host, port) for host, port in spec["cluster"]]  # type: ignore[no-untyped-call]
        return cast(redis.Redis, RedisCluster(startup_nodes=nodes, **spec["kwargs"]))
    pool = redis.ConnectionPool(connection_class=spec["connection_class"], **spec["kwargs"])
    return redis.Redis(connection_pool=pool)


def _child(
    spec: dict[str, Any],
    index: str,
    config_json: str,
    thresholds: dict[str, Any],
    job_id: str,
    wire_sources: tuple[str, ...] = DEFAULT_WIRE_SOURCES,
) -> None:
    logging.basicConfig(level=logging.INFO)
    client = connect(spec)
    try:
        execute(
            client,
            load_keys(client, index),
            PipelineConfig.from_json(config_json),
            Thresholds(**thresholds),
            job_id,
            wire_sources=wire_sources,
        )
    finally:
        client.close()


@dataclass
class JobRunner:
    """Starts each job in its own spawned child process (see the module docstring)."""

    client: redis.Redis
    keys: IndexKeys
    config: PipelineConfig
    thresholds: Thresholds
    processes: dict[str, mp.process.BaseProcess] = field(default_factory=dict)
    #: Wire/agency names preferred as origins; None: ``COPYDESK_WIRE_SOURCES``
    #: (``Settings.wire_source_names``) as this process's environment has it.
    wire_sources: tuple[str, ...] | None = None

    def start(self, job_id: str) -> int:
        if self.wire_sources is None:
            from service.settings import get_settings

            self.wire_sources = get_settings().wire_source_names()
        ctx = mp.get_context("spawn")
        proc = ctx.Process(
            target=_child,
            args=(
                connection_spec(self.client),
                self.keys.index,
                self.config.to_json(),
                asdict(self.thresholds),
                job_id,
                self.wire_sources,
            ),
            name=f"copydesk-cluster-{job_id}",
            daemon=True,  # dies with the service; the job is then reaped as failed
        )
        proc.start()
        self.processes[job_id] = proc
        self.reap()
        return int(proc.pid or 0)

    def reap(self) -> None:
        """Join finished children (no zombies)."""
        for job_id, proc in list(self.processes.items()):
            if not proc.is_alive():
                proc.join(timeout=0)
                del self.processes[job_id]
