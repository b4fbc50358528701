"""Retention: old articles leave every structure of the index, atomically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from typer.testing import CliRunner

from service.cli import app
from service.model import ArticleIn
from service.retention import Sweeper, sweep
from service.storage.index import Index

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _put(index: Index, texts: dict[str, str], article_id: str, days_old: float) -> None:
    published = NOW - timedelta(days=days_old)
    index.put(ArticleIn(text=texts[article_id], id=article_id, published_at=published))


def _keys(client: redis.Redis) -> dict[str, int]:
    """How many entries each structure holds."""
    lsh = sum(client.hlen(k) for k in client.scan_iter("*:lsh:*"))
    return {
        "ids": client.hlen("{cd:default}:ids"),
        "bytime": client.zcard("{cd:default}:bytime"),
        "docs": sum(1 for _ in client.scan_iter("*:doc:*")),
        "lsh": lsh,
    }


def test_sweep_removes_old_articles_from_every_structure(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    _put(index, seed_texts, "000", days_old=40)
    _put(index, seed_texts, "001", days_old=35)
    before_old = _keys(redis_client)
    _put(index, seed_texts, "002", days_old=1)
    _put(index, seed_texts, "003", days_old=2)
    removed = sweep(index, 30, now=NOW.timestamp())
    assert removed == 2
    assert sorted(index.ids()) == ["002", "003"]
    after = _keys(redis_client)
    assert after["ids"] == after["bytime"] == after["docs"] == 2
    # No band entry of the expired articles is left behind.
    fresh = _keys_of_only(index, redis_client, seed_texts, ["002", "003"])
    assert after["lsh"] == fresh
    assert before_old["lsh"] > 0
    # Their signature slots are zeroed.
    assert not index._read_signature(1).any() and not index._read_signature(2).any()
    assert sweep(index, 30, now=NOW.timestamp()) == 0


def _keys_of_only(index: Index, client: redis.Redis, texts: dict[str, str], ids: list[str]) -> int:
    """LSH entries of an index holding only ``ids`` (built in a scratch index)."""
    scratch = Index(client, index.config, name="scratch")
    scratch.check_config()
    for i in ids:
        scratch.put(ArticleIn(text=texts[i], id=i))
    return sum(client.hlen(k) for k in client.scan_iter("{cd:scratch}:lsh:*"))


def test_expired_articles_no_longer_match(index: Index, seed_texts: dict[str, str]) -> None:
    _put(index, seed_texts, "000", days_old=100)
    assert index.match_text(seed_texts["000"])
    sweep(index, 30, now=NOW.timestamp())
    assert index.match_text(seed_texts["000"]) == []
    assert index.get("000") is None


def test_articles_without_date_age_from_ingest(index: Index, seed_texts: dict[str, str]) -> None:
    index.put(ArticleIn(text=seed_texts["004"], id="004"))
    assert sweep(index, 1) == 0  # ingested just now
    assert sweep(index, 1, now=datetime.now(UTC).timestamp() + 2 * 86400) == 1


def test_expire_works_in_bounded_batches(index: Index, seed_texts: dict[str, str]) -> None:
    for i, key in enumerate(sorted(seed_texts)):
        _put(index, seed_texts, key, days_old=50 + i)
    assert index.expire(NOW.timestamp(), batch=2) == 2
    assert index.count() == 3
    assert sweep(index, 10, now=NOW.timestamp()) == 3


def test_sweeper_thread_expires_periodically(index: Index, seed_texts: dict[str, str]) -> None:
    _put(index, seed_texts, "000", days_old=400)
    sweeper = Sweeper(index, 30, interval=0.05)
    sweeper.start()
    try:
        import time

        deadline = time.monotonic() + 10
        while index.count() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert index.count() == 0 and sweeper.removed == 1


def test_expire_command(settings, index: Index, seed_texts: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)  # the command measures age from the real clock
    index.put(ArticleIn(text=seed_texts["000"], id="000", published_at=now - timedelta(days=90)))
    index.put(ArticleIn(text=seed_texts["001"], id="001", published_at=now))
    url = settings.redis_url.get_secret_value()
    runner = CliRunner()
    refused = runner.invoke(app, ["expire", "--redis-url", url])
    assert refused.exit_code == 2 and "COPYDESK_RETENTION_DAYS" in refused.output
    done = runner.invoke(app, ["expire", "--days", "30", "--redis-url", url])
    assert done.exit_code == 0, done.output
    assert "expired 1" in done.output
    assert sorted(index.ids()) == ["001"]
