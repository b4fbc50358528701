"""`copydesk check`: counts, the problems found, and exit code 1 when there are any
(what each problem means: tests/service/storage/test_check.py)."""

from __future__ import annotations

import json

import pytest
import redis
from typer.testing import CliRunner

from service.cli import app
from service.devservers import RedisProcess
from tests.conftest import SEEDS

runner = CliRunner()


@pytest.fixture
def url(redis_server: RedisProcess, redis_client: redis.Redis) -> str:
    assert runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", redis_server.url, "-q"])
    return redis_server.url


def test_a_whole_index_is_ok(url: str) -> None:
    r = runner.invoke(app, ["check", "--redis-url", url])
    assert r.exit_code == 0, r.output
    assert "articles 5" in r.output and "ok" in r.output
    r = runner.invoke(app, ["check", "--redis-url", url, "--json"])
    report = json.loads(r.output)
    assert report["ok"] and report["articles"] == 5 and report["problems"] == []


def test_a_lost_doc_record_is_reported_with_exit_code_1(
    url: str, redis_client: redis.Redis
) -> None:
    doc = next(iter(redis_client.scan_iter(match="*:doc:*")))
    redis_client.delete(doc)
    r = runner.invoke(app, ["check", "--redis-url", url, "--json", "--show", "1"])
    assert r.exit_code == 1, r.output
    report = json.loads(r.output)
    assert not report["ok"] and len(report["problems"]) == 1
    assert sum(report["problems_by_kind"].values()) >= 1
    text = runner.invoke(app, ["check", "--redis-url", url])
    assert text.exit_code == 1 and "problems" in text.output
