"""Redis goes away: 503 with a clear detail, fast; service resumes by itself."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api import create_app
from service.devservers import RedisProcess, free_port
from service.settings import get_settings
from tests.service.reliability.conftest import article_text

TIMEOUT = 0.5  # COPYDESK_REDIS_TIMEOUT for these tests


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[RedisProcess, TestClient]]:
    # fsync before every reply: a SIGKILL then loses nothing the API answered 201 for
    # (under everysec it may lose the last second, which is Redis's rule, not ours).
    server = RedisProcess(tmp_path / "redis", free_port(), appendonly=True, appendfsync="always")
    server.start()
    settings = get_settings(redis_url=server.url, redis_timeout=TIMEOUT, data_dir=tmp_path / "d")
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as api:
            yield server, api
    finally:
        if server.proc is not None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()


def _requests(existing: str) -> list[tuple[str, str, dict[str, object]]]:
    body = {"id": "new", "text": article_text(2)}
    return [
        ("POST", "/articles", {"json": body}),
        ("POST", "/articles/match", {"json": body}),
        ("GET", f"/articles/{existing}", {}),
        ("GET", f"/articles/{existing}/matches", {}),
        ("DELETE", f"/articles/{existing}", {}),
    ]


def _assert_unavailable(api: TestClient, budget: float) -> None:
    for method, url, kw in _requests("a"):
        start = time.monotonic()
        r = api.request(method, url, **kw)  # type: ignore[arg-type]
        took = time.monotonic() - start
        assert r.status_code == 503, (method, url, r.status_code, r.text)
        detail = r.json()["detail"]
        assert "unavailable" in detail and "Redis at redis://127.0.0.1" in detail
        assert "Traceback" not in r.text
        assert r.headers["retry-after"]
        assert took < budget, (method, url, took)
    ready = api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unready"
    assert "unreachable" in ready.json()["detail"]
    assert api.get("/healthz").status_code == 200  # the process itself is fine


def _assert_serving(api: TestClient) -> None:
    assert api.get("/readyz").status_code == 200
    assert api.get("/articles/a").status_code == 200
    r = api.post("/articles", json={"id": "b", "text": article_text(3)})
    assert r.status_code == 201, r.text
    assert api.delete("/articles/b").status_code == 204


def _wait_ready(api: TestClient, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while api.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "service did not resume"
        time.sleep(0.05)


def test_redis_stopped_then_back(outage: tuple[RedisProcess, TestClient]) -> None:
    server, api = outage
    assert api.post("/articles", json={"id": "a", "text": article_text(1)}).status_code == 201
    server.stop()
    # Connection refused: each request fails fast, well inside one timeout.
    _assert_unavailable(api, budget=TIMEOUT * 4)
    server.start()  # same port, AOF replayed
    _wait_ready(api)
    _assert_serving(api)


def test_redis_killed_then_back(outage: tuple[RedisProcess, TestClient]) -> None:
    server, api = outage
    assert api.post("/articles", json={"id": "a", "text": article_text(1)}).status_code == 201
    server.stop(kill=True)
    _assert_unavailable(api, budget=TIMEOUT * 4)
    server.start()
    _wait_ready(api)
    _assert_serving(api)


def test_redis_hung_requests_time_out(outage: tuple[RedisProcess, TestClient]) -> None:
    """A frozen Redis (SIGSTOP): answers come back as 503 within the timeout, no hang."""
    server, api = outage
    assert api.post("/articles", json={"id": "a", "text": article_text(1)}).status_code == 201
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        # One Redis call per request at most waits TIMEOUT; no retry multiplies it.
        _assert_unavailable(api, budget=TIMEOUT * 3 + 1.0)
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    _wait_ready(api)
    _assert_serving(api)


def test_outage_logs_no_stack_trace(
    outage: tuple[RedisProcess, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, api = outage
    server.stop()
    with caplog.at_level(logging.INFO):
        assert api.get("/articles/a").status_code == 503
    assert not [r for r in caplog.records if r.exc_info]
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    server.start()
    _wait_ready(api)


def test_start_with_redis_down_then_up(tmp_path: Path) -> None:
    """The API starts while Redis is away; /readyz says why; it serves once Redis is up."""
    server = RedisProcess(tmp_path / "redis", free_port())
    settings = get_settings(redis_url=server.url, redis_timeout=TIMEOUT, data_dir=tmp_path / "d")
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as api:
            ready = api.get("/readyz")
            assert ready.status_code == 503 and "unreachable" in ready.json()["detail"]
            r = api.post("/articles", json={"id": "a", "text": article_text(1)})
            assert r.status_code == 503
            server.start()
            _wait_ready(api)
            r = api.post("/articles", json={"id": "a", "text": article_text(1)})
            assert r.status_code == 201
    finally:
        server.stop()
