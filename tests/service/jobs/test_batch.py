"""service.jobs.batch: running a job here or in a child process (real Redis)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis

from service.jobs.batch import JobRunner, execute
from service.jobs.store import JobParams, JobStore
from service.model import ArticleIn
from service.storage.index import Index

DEADLINE = 60.0


def _wait(check: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {deadline}s waiting for {what}")


def _seed(index: Index, seed_texts: dict[str, str], dated: bool = False) -> None:
    for n, (key, text) in enumerate(sorted(seed_texts.items())):
        when = datetime(2024, 5, 1, 12, n, tzinfo=UTC) if dated else None
        index.put(ArticleIn(text=text, id=key, published_at=when))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(index: Index, params: JobParams | None = None):  # type: ignore[no-untyped-def]
    store = JobStore(index.client, index.keys)
    job_id = store.create(params or JobParams())
    job = execute(index.client, index.keys, index.config, index.thresholds, job_id)
    return store, job_id, job


@pytest.mark.parametrize("verify", ["exact", "estimate"])
def test_job_over_the_seeds(index: Index, seed_texts, verify: str) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts, dated=True)
    store, job_id, job = _run(index, JobParams(verify=verify))  # type: ignore[arg-type]
    assert job.status == "done" and job.progress == 1.0 and job.error is None
    assert job.summary["articles"] == 5 and job.summary["verify"] == verify
    result = json.loads(store.result(job_id))
    assert [c["members"] for c in result["clusters"]] == [["000", "001"]]
    assert result["clusters"][0]["origin"] == "000"  # published first
    # Same index, same answer, same id.
    _, job_id2, _ = _run(index, JobParams(verify=verify))  # type: ignore[arg-type]
    assert json.loads(store.result(job_id2)) == result


def test_thresholds_override_changes_links(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts)
    store, job_id, job = _run(index, JobParams(thresholds={"syndicated_containment": 0.9}))
    assert job.status == "done" and job.summary["clusters"] == 0


def test_bad_params_fail_the_job_with_the_reason(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts)
    _, _, job = _run(index, JobParams(thresholds={"nonsense": 1.0}))
    assert job.status == "failed" and "nonsense" in job.error


def test_finished_job_is_not_touched_by_a_late_reap(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts)
    store, job_id, job = _run(index)
    assert not store.fail(job_id, "late", only_if={"status": b"running"})
    assert store.get(job_id).status == "done"


def _claim_and_hang(url: str, index: str, job_id: str) -> None:
    # A worker that claims the job and never finishes: killed by the test.
    from service.storage.keys import Keys

    client = redis.Redis.from_url(url)
    JobStore(client, Keys(index)).claim(job_id)
    signal.pause()


def test_killed_worker_process_is_reported_failed(index: Index, redis_server) -> None:  # type: ignore[no-untyped-def]
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    proc = mp.get_context("spawn").Process(
        target=_claim_and_hang, args=(redis_server.url, index.keys.index, job_id), daemon=True
    )
    proc.start()
    try:
        _wait(lambda: store.get(job_id).status == "running", "the worker to claim the job")
    finally:
        proc.kill()
        proc.join(timeout=10)
    job = store.get(job_id)
    assert job.status == "failed" and "interrupted" in job.error


def test_runner_runs_the_job_in_a_child_process(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts)
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    runner = JobRunner(index.client, index.keys, index.config, index.thresholds)
    pid = runner.start(job_id)
    assert pid != os.getpid()
    _wait(lambda: store.get(job_id).status in ("done", "failed"), "the job to finish")
    job = store.get(job_id)
    assert job.status == "done", job.error
    owner = index.client.hget(index.keys.job(job_id), "owner").decode()
    assert owner.endswith(f":{pid}")  # it ran in the child, not here
    assert [c["members"] for c in json.loads(store.result(job_id))["clusters"]] == [["000", "001"]]


def test_service_start_fails_jobs_left_running(index: Index, settings) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from service.api import create_app

    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    store.claim(job_id, f"{socket.gethostname()}:{_dead_pid()}")
    with TestClient(create_app(settings, client=index.client)):
        # Read the raw record: the API's own read would reap it anyway.
        assert index.client.hget(index.keys.job(job_id), "status") == b"failed"


def test_undated_wire_story_is_origin_over_a_later_dated_rework(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    # 001 carries a date and 000 none: 000, the ANI copy, is still the origin,
    # and the job's result says why.
    index.put(ArticleIn(text=seed_texts["000"], id="000", source="ANI"))
    when = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)
    index.put(ArticleIn(text=seed_texts["001"], id="001", source="Daily", published_at=when))
    store, job_id, job = _run(index)
    (cluster,) = json.loads(store.result(job_id))["clusters"]
    assert cluster["origin"] == "000"
    assert cluster["origin_reason"].startswith("wire source (ANI); the other carries 32%")


def test_wire_list_of_the_job_is_configurable(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    index.put(ArticleIn(text=seed_texts["000"], id="000"))
    index.put(ArticleIn(text=seed_texts["001"], id="001", source="Desk Agency"))
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    execute(
        index.client,
        index.keys,
        index.config,
        index.thresholds,
        job_id,
        wire_sources=("desk agency",),
    )
    (cluster,) = json.loads(store.result(job_id))["clusters"]
    assert cluster["origin"] == "001" and "wire source (desk agency)" in cluster["origin_reason"]
    # The default list does not know that agency: the text decides (000).
    _, job_id, _ = _run(index)
    assert json.loads(store.result(job_id))["clusters"][0]["origin"] == "000"


def test_runner_takes_the_wire_list_from_the_settings_factory(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPYDESK_WIRE_SOURCES", "Desk Agency, ANI")
    runner = JobRunner(index.client, index.keys, index.config, index.thresholds)
    monkeypatch.setattr(mp.get_context("spawn"), "Process", _NoProcess)
    runner.start("job")
    assert runner.wire_sources == ("Desk Agency", "ANI")
    assert _NoProcess.last_args[-1] == ("Desk Agency", "ANI")


class _NoProcess:
    last_args: tuple[object, ...] = ()

    def __init__(self, target: object, args: tuple[object, ...], **kwargs: object) -> None:
        type(self).last_args = args
        self.pid = 0

    def start(self) -> None:
        pass

    def is_alive(self) -> bool:
        return False

    def join(self, timeout: float | None = None) -> None:
        pass
