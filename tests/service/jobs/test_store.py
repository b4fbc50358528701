"""service.jobs.store: job records, crash detection and one active job per index
(real Redis: one server, and a three-master Redis Cluster)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict

import pytest
import redis

from service.jobs.store import JobParams, JobStatus, JobStore
from service.storage.index import Index

BACKENDS = ("single", "cluster")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _listed(index: Index) -> list[bytes]:
    return list(index.client.zrange(index.keys.jobs, 0, -1))  # type: ignore[arg-type]


def test_create_unless_active_creates_a_queued_job(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    job, created = store.create_unless_active(JobParams(verify="estimate", slot_bands=3))
    assert created and job.status == "queued" and job.progress == 0.0
    assert _listed(index) == [job.job_id.encode()]
    stored = store.get(job.job_id)
    assert stored is not None and stored.status == "queued"
    assert stored.params == job.params == asdict(JobParams(verify="estimate", slot_bands=3))
    assert stored.created_at == job.created_at


def test_create_unless_active_returns_the_active_job(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    first, created = store.create_unless_active(JobParams())
    assert created
    again, created = store.create_unless_active(JobParams(verify="exact"))
    assert not created and again.job_id == first.job_id and again.status == "queued"
    store.claim(first.job_id, f"{socket.gethostname()}:{os.getpid()}")  # alive: this process
    again, created = store.create_unless_active(JobParams())
    assert not created and again.job_id == first.job_id and again.status == "running"
    assert _listed(index) == [first.job_id.encode()]


def test_a_finished_or_dead_job_does_not_block(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    done, _ = store.create_unless_active(JobParams())
    store.finish(done.job_id, {"articles": 0}, [])
    dead, created = store.create_unless_active(JobParams())
    assert created and dead.job_id != done.job_id
    store.claim(dead.job_id, f"{socket.gethostname()}:{_dead_pid()}")
    fresh, created = store.create_unless_active(JobParams())
    assert created and fresh.job_id not in (done.job_id, dead.job_id)
    reaped = store.get(dead.job_id)
    assert reaped is not None and reaped.status == "failed" and "gone" in (reaped.error or "")
    assert len(_listed(index)) == 3


class _Interleaved(JobStore):
    """A store whose first check is overtaken: after it has read the job list
    (inside its transaction) and before it writes, ``rival`` creates a job."""

    def __init__(self, client: redis.Redis, index: Index, rival: JobStore) -> None:
        super().__init__(client, index.keys)
        self.rival = rival
        self.checks = 0
        self.rival_job: JobStatus | None = None

    def _active_in(self, pipe: redis.client.Pipeline) -> str | None:
        seen = super()._active_in(pipe)
        self.checks += 1
        if self.checks == 1:
            assert seen is None  # nothing active yet: the old check-then-create would write now
            self.rival_job, created = self.rival.create_unless_active(JobParams())
            assert created
        return seen


def test_a_create_overtaken_between_check_and_write_returns_the_winner(index: Index) -> None:
    rival = JobStore(index.client, index.keys)
    store = _Interleaved(index.client, index, rival)
    job, created = store.create_unless_active(JobParams(verify="exact"))
    assert store.rival_job is not None
    assert not created and job.job_id == store.rival_job.job_id
    assert store.checks == 2  # the first write was refused (WATCH) and the check ran again
    assert _listed(index) == [job.job_id.encode()]


def test_concurrent_creates_yield_exactly_one_job(
    index: Index, backend: str, request: pytest.FixtureRequest
) -> None:
    callers = 8
    start = threading.Barrier(callers)
    results: list[tuple[JobStatus, bool]] = []
    errors: list[BaseException] = []

    clients = [_another_client(backend, request) for _ in range(callers)]

    def create(client: redis.Redis) -> None:
        try:
            start.wait()
            results.append(JobStore(client, index.keys).create_unless_active(JobParams()))
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    winners = [job for job, created in results if created]
    assert len(results) == callers and len(winners) == 1
    assert {job.job_id for job, _ in results} == {winners[0].job_id}
    assert _listed(index) == [winners[0].job_id.encode()]


def _another_client(backend: str, request: pytest.FixtureRequest) -> redis.Redis:
    """A client of its own (its own connections), to the test's Redis."""
    if backend == "cluster":
        client: redis.Redis = request.getfixturevalue("redis_cluster").client(socket_timeout=5)
        return client
    return redis.Redis.from_url(request.getfixturevalue("redis_url"), socket_timeout=5)


def test_claim_is_exclusive(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    assert store.claim(job_id, "host-a:1")
    assert not store.claim(job_id, "host-b:2")
    assert index.client.hget(index.keys.job(job_id), "owner") == b"host-a:1"


def test_running_job_with_dead_owner_is_failed_on_read(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    store.claim(job_id, f"{socket.gethostname()}:{_dead_pid()}")
    job = store.get(job_id)
    assert job.status == "failed" and "interrupted" in job.error and "gone" in job.error


def test_running_job_with_stale_heartbeat_is_failed(index: Index) -> None:
    store = JobStore(index.client, index.keys, stale_after=30)
    job_id = store.create(JobParams())
    store.claim(job_id, "another-host:4242")  # cannot be checked by pid from here
    assert store.get(job_id).status == "running"
    index.client.hset(index.keys.job(job_id), "heartbeat", repr(time.time() - 31))
    job = store.get(job_id)
    assert job.status == "failed" and "no heartbeat" in job.error


def test_queued_job_never_claimed_is_failed(index: Index) -> None:
    store = JobStore(index.client, index.keys, stale_after=30)
    job_id = store.create(JobParams())
    assert store.get(job_id).status == "queued"
    index.client.hset(index.keys.job(job_id), "heartbeat", repr(time.time() - 31))
    assert store.get(job_id).status == "failed"
    assert "never started" in store.get(job_id).error


def test_live_running_job_is_left_alone(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    store.claim(job_id, f"{socket.gethostname()}:{os.getpid()}")
    assert store.get(job_id).status == "running"
    assert store.active().job_id == job_id
    assert store.sweep() == []


def test_sweep_fails_every_dead_job(index: Index) -> None:
    store = JobStore(index.client, index.keys)
    dead = [store.create(JobParams()) for _ in range(3)]
    for job_id in dead:
        store.claim(job_id, f"{socket.gethostname()}:{_dead_pid()}")
    assert sorted(store.sweep()) == sorted(dead)
    assert store.active() is None
