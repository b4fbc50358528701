"""/clusters/jobs over a real Redis: 202, status, result, errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api import create_app
from service.jobs.store import JobParams, JobStore
from service.storage.keys import Keys
from tests.conftest import reword

DEADLINE = 60.0


@pytest.fixture
def seeded(api: TestClient, seed_texts: dict[str, str]) -> TestClient:
    for key, text in sorted(seed_texts.items()):
        r = api.post("/articles", json={"id": key, "text": text})
        assert r.status_code == 201, r.text
    return api


def _finish(api: TestClient, job_id: str) -> dict:  # type: ignore[type-arg]
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        body = api.get(f"/clusters/jobs/{job_id}").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {DEADLINE}s")


def test_job_over_the_seeds_finds_one_cluster(seeded: TestClient) -> None:
    r = seeded.post("/clusters/jobs")
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    status = _finish(seeded, job_id)
    assert status["status"] == "done", status["error"]
    assert status["progress"] == 1.0 and status["error"] is None
    assert status["summary"]["articles"] == 5 and status["summary"]["clusters"] == 1
    result = seeded.get(f"/clusters/jobs/{job_id}/result")
    assert result.status_code == 200
    clusters = result.json()["clusters"]
    assert len(clusters) == 1
    assert sorted(clusters[0]["members"]) == ["000", "001"]
    assert clusters[0]["origin"] in ("000", "001")
    assert clusters[0]["cluster_id"]
    listed = seeded.get("/clusters/jobs").json()
    assert listed[0]["job_id"] == job_id


def test_a_rewritten_job_joins_a_reworded_copy(seeded: TestClient, seed_texts) -> None:  # type: ignore[no-untyped-def]
    text = reword(seed_texts["000"])
    assert seeded.post("/articles", json={"id": "005", "text": text}).status_code == 201
    bad = seeded.post("/clusters/jobs", json={"rewritten": True, "verify": "estimate"})
    assert bad.status_code == 422 and "rewritten links need verify" in bad.json()["detail"]
    r = seeded.post("/clusters/jobs", json={"rewritten": True})
    assert r.status_code == 202
    status = _finish(seeded, r.json()["job_id"])
    assert status["status"] == "done", status["error"]
    assert status["summary"]["rewritten"]["linked"] >= 1
    clusters = seeded.get(f"/clusters/jobs/{r.json()['job_id']}/result").json()["clusters"]
    assert [sorted(c["members"]) for c in clusters] == [["000", "001", "005"]]


def test_body_is_optional_and_validated(seeded: TestClient) -> None:
    bad = seeded.post(
        "/clusters/jobs",
        json={"since": "2024-02-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"},
    )
    assert bad.status_code == 422 and "since" in bad.json()["detail"]
    typo = seeded.post("/clusters/jobs", json={"from": "2024-02-01T00:00:00Z"})
    assert typo.status_code == 422
    assert typo.json()["detail"].startswith("from: unknown field")
    assert seeded.get("/clusters/jobs").json() == []  # nothing was started
    r = seeded.post("/clusters/jobs", json={"verify": "estimate", "syndicated_containment": 0.95})
    assert r.status_code == 202
    status = _finish(seeded, r.json()["job_id"])
    assert status["summary"]["verify"] == "estimate"
    assert status["summary"]["clusters"] == 0  # the stricter threshold parts 000 and 001


def test_unknown_job_is_404(api: TestClient) -> None:
    for path in ("/clusters/jobs/nope", "/clusters/jobs/nope/result"):
        r = api.get(path)
        assert r.status_code == 404
        assert "POST /clusters/jobs" in r.json()["detail"]


def test_result_of_unfinished_job_is_409_and_second_post_is_409(api: TestClient, index) -> None:  # type: ignore[no-untyped-def]
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    store.claim(job_id, f"{socket.gethostname()}:{_live_pid()}")  # this test process: alive
    r = api.get(f"/clusters/jobs/{job_id}/result")
    assert r.status_code == 409 and "running" in r.json()["detail"]
    again = api.post("/clusters/jobs")
    assert again.status_code == 409 and job_id in again.json()["detail"]


def _live_pid() -> int:
    import os

    return os.getpid()


def test_interrupted_job_reads_as_failed(api: TestClient, index) -> None:  # type: ignore[no-untyped-def]
    store = JobStore(index.client, index.keys)
    job_id = store.create(JobParams())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    store.claim(job_id, f"{socket.gethostname()}:{proc.pid}")  # a worker that has died
    body = api.get(f"/clusters/jobs/{job_id}").json()
    assert body["status"] == "failed" and "interrupted" in body["error"]
    r = api.get(f"/clusters/jobs/{job_id}/result")
    assert r.status_code == 409 and "failed" in r.json()["detail"]
    r = api.post("/clusters/jobs")
    assert r.status_code == 202  # no longer blocks a new job
    assert _finish(api, r.json()["job_id"])["status"] == "done"


def test_start_up_sweep_fails_jobs_left_running(settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    store = JobStore(redis_client, Keys(settings.index))
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    job_id = store.create(JobParams())
    store.claim(job_id, f"{socket.gethostname()}:{proc.pid}")
    with TestClient(create_app(settings, client=redis_client)) as client:
        listed = client.get("/clusters/jobs").json()
    assert [(j["job_id"], j["status"]) for j in listed] == [(job_id, "failed")]


def test_post_needs_the_api_key_when_set(settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    locked = settings.model_copy(update={"api_key": SecretStr("sesame")})
    with TestClient(create_app(locked, client=redis_client)) as client:
        assert client.post("/clusters/jobs").status_code == 401
        r = client.post("/clusters/jobs", headers={"X-API-Key": "sesame"})
        assert r.status_code == 202
        assert _finish(client, r.json()["job_id"])["status"] == "done"


def test_jobs_take_the_wire_list_from_the_app_settings(
    settings,
    redis_client,
    seed_texts: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    """The app's own Settings decide the wire sources, not the process environment:
    with "Example Wire" listed (and ANI not), the copy credited to it is the origin."""
    mine = settings.model_copy(update={"wire_sources": "Example Wire"})
    with TestClient(create_app(mine, client=redis_client)) as api:
        for key, source in (("000", "ANI"), ("001", "Example Wire")):
            body = {"id": key, "text": seed_texts[key], "source": source}
            assert api.post("/articles", json=body).status_code == 201
        job_id = api.post("/clusters/jobs").json()["job_id"]
        assert _finish(api, job_id)["status"] == "done"
        (cluster,) = api.get(f"/clusters/jobs/{job_id}/result").json()["clusters"]
    assert cluster["origin"] == "001"
    assert "Example Wire" in cluster["origin_reason"]
