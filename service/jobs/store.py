"""Clustering job records in Redis: what a job was asked, its status, progress and result.

Each job is a hash under ``job`` and its result a JSON string under
``job_result``, listed by creation time in the ``jobs`` sorted set
(``service.storage.keys``): every one of them lives in the index's root
partition, one hash slot, so the transactions below also work on Redis Cluster.

One job at a time per index: ``create_unless_active`` creates a job only
while none is queued or running, atomically (WATCH on the ``jobs`` set, which
every create writes), so of two concurrent callers exactly one gets a job.

Crash safety: the worker claims a job atomically (``queued`` -> ``running``)
and records its owner (``host:pid``) and a heartbeat it refreshes every few
seconds. Whoever reads a job (API, CLI) first checks it: a job whose owner
process is gone (same host), whose heartbeat is older than ``stale_after``,
or that stayed ``queued`` longer than that, is marked ``failed`` with an
error saying so. So a job interrupted by a restart is reported ``failed`` on
the next read, never stuck ``running``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

import redis
from redis.typing import EncodableT, FieldT

from service.storage.keys import IndexKeys, Keys
from shingling.families import Cluster, ClusterParams

log = logging.getLogger("copydesk.clustering")

Status = Literal["queued", "running", "done", "failed"]
VerifyMode = Literal["auto", "exact", "estimate"]
ACTIVE = ("queued", "running")

#: Finished jobs and their results expire after this long (seconds).
JOB_TTL = 7 * 24 * 3600


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
    #: Also link ``partial`` pairs the aligner finds rewritten (``shingling.rewrites``).
    rewritten: bool = False
    #: The aligner's pair model for those: lexical + semantic (else lexical).
    semantic: bool = False

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

    def __init__(
        self, client: redis.Redis, keys: IndexKeys | Keys, *, stale_after: float = 30.0
    ) -> None:
        self.client = client
        self.keys = keys
        self.stale_after = stale_after

    # -- life cycle ------------------------------------------------------
    def create(self, params: JobParams) -> str:
        """A new queued job, whatever else is queued or running (see
        ``create_unless_active`` for the one-at-a-time rule)."""
        job_id = uuid.uuid4().hex
        pipe = self.client.pipeline(transaction=True)
        self._queue(pipe, job_id, params, _now())
        pipe.execute()
        return job_id

    def create_unless_active(self, params: JobParams) -> tuple[JobStatus, bool]:
        """(a new queued job, True), or (the queued or running job, False).

        Atomic: the check and the create are one transaction that WATCHes the
        ``jobs`` set, which every create writes, so a job created by anyone
        between this caller's check and its write makes the write fail and the
        check run again. A dead job (``get`` reaps it) blocks nothing."""
        while True:
            active = self.active()
            if active is not None:
                return active, False
            created = self._create_if_none_listed(params)
            if created is not None:
                return created, True
            # A job appeared since ``active`` looked: the next turn reports it.

    def _create_if_none_listed(self, params: JobParams) -> JobStatus | None:
        job_id, now = uuid.uuid4().hex, _now()

        def txn(pipe: redis.client.Pipeline) -> bool:
            if self._active_in(pipe) is not None:
                return False
            pipe.multi()
            self._queue(pipe, job_id, params, now)
            return True

        # redis-py types the callable as returning None; value_from_callable uses ours.
        done = self.client.transaction(txn, self.keys.jobs, value_from_callable=True)  # type: ignore[arg-type]
        return _queued(job_id, params, now) if done else None

    def _active_in(self, pipe: redis.client.Pipeline) -> str | None:
        """The id of a job listed as queued or running, read on the watching ``pipe``."""
        for raw_id in cast("list[bytes]", pipe.zrange(self.keys.jobs, 0, -1)):
            status = cast("bytes | None", pipe.hget(self.keys.job(raw_id.decode()), "status"))
            if status is not None and status.decode() in ACTIVE:
                return raw_id.decode()
        return None

    def _queue(
        self, pipe: redis.client.Pipeline, job_id: str, params: JobParams, now: float
    ) -> None:
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


def _queued(job_id: str, params: JobParams, now: float) -> JobStatus:
    return JobStatus(job_id, "queued", 0.0, None, None, asdict(params), now, None, None)


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
