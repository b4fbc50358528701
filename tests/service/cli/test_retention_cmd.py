"""`copydesk expire`: removes articles older than the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from typer.testing import CliRunner

from service.cli import app
from service.devservers import RedisProcess
from service.model import ArticleIn
from service.storage.index import Index

runner = CliRunner()


def test_expire_removes_only_the_old_articles(
    redis_server: RedisProcess, redis_client: redis.Redis, index: Index
) -> None:
    now = datetime.now(UTC)
    old = "An old wire story about the harbour terminal and its six years of building."
    new = "A fresh report on the orchestra rehearsing the symphony before its premiere."
    index.put(ArticleIn(text=old, id="old", published_at=now - timedelta(days=40)))
    index.put(ArticleIn(text=new, id="new", published_at=now - timedelta(days=1)))
    r = runner.invoke(app, ["expire", "--days", "30", "--redis-url", redis_server.url])
    assert r.exit_code == 0, r.output
    assert "expired 1 articles older than 30 days; 1 articles in the index" in r.output
    assert index.get("old") is None and index.get("new") is not None


def test_expire_without_a_period_says_how_to_give_one(redis_server: RedisProcess) -> None:
    r = runner.invoke(app, ["expire", "--redis-url", redis_server.url])
    assert r.exit_code == 2 and "pass --days or set COPYDESK_RETENTION_DAYS" in r.output
