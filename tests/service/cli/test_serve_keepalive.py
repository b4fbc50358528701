"""``copydesk serve`` keeps idle connections open longer than client pools do.

uvicorn's own default (5 s) equals httpx's pool idle time: a client reusing a
pooled connection just as the server closed it got "connection reset by peer".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from service.cli import app
from service.devservers import RedisProcess

runner = CliRunner()


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_run(asgi: object, **kwargs: Any) -> None:  # the server itself is not under test
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return seen


def test_keep_alive_outlasts_client_pools(
    captured: dict[str, Any], redis_server: RedisProcess, redis_client: object
) -> None:
    res = runner.invoke(app, ["serve", "--redis-url", redis_server.url])
    assert res.exit_code == 0, res.output
    httpx_idle = httpx.Limits().keepalive_expiry or 0
    assert captured["timeout_keep_alive"] > httpx_idle
    assert captured["host"] == "127.0.0.1"


def test_keep_alive_is_a_setting(
    captured: dict[str, Any],
    redis_server: RedisProcess,
    redis_client: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COPYDESK_KEEP_ALIVE", "120")
    res = runner.invoke(app, ["serve", "--redis-url", redis_server.url])
    assert res.exit_code == 0, res.output
    assert captured["timeout_keep_alive"] == 120
