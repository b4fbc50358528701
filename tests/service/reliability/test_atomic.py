"""Atomic writes: an interrupted write never leaves a half-written article.

``copydesk check`` (``service.storage.check``) scans every structure of the index; it
must find nothing after a write interrupted at any point, after Redis or the
client is killed mid-stream, after a replace and after a delete. First, it
must find what it is meant to find.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.devservers import RedisProcess, free_port
from service.model import ArticleIn
from service.settings import Settings
from service.storage.check import check
from service.storage.index import Index
from service.storage.keys import Keys
from service.storage.layout import band_field, fp_field
from tests.conftest import ROOT
from tests.service.reliability.conftest import article_text

KEYS = Keys("default")


def _ok(client: redis.Redis, settings: Settings) -> None:
    report = check(client, settings.pipeline())
    assert report.ok, report.problems


def _doc_number(client: redis.Redis, article_id: str) -> int:
    raw = client.hget(KEYS.ids, article_id)
    assert raw is not None
    return int(raw)


# -- check finds what it should --------------------------------------------------
def _orphan_doc(c: redis.Redis, idx: Index) -> None:
    c.hset(KEYS.doc(999), mapping={"id": "ghost", "text": b"x", "sha": "0"})


def _dangling_id(c: redis.Redis, idx: Index) -> None:
    c.delete(KEYS.doc(_doc_number(c, "a")))


def _dangling_lsh(c: redis.Redis, idx: Index) -> None:
    c.hset(KEYS.lsh(3, 12345), band_field(3, 12345), np.array([777], "<u4").tobytes())


def _stale_lsh(c: redis.Redis, idx: Index) -> None:
    n = _doc_number(c, "a")
    c.hset(KEYS.lsh(5, 1), band_field(5, 1), np.array([n], "<u4").tobytes())


def _dangling_fp(c: redis.Redis, idx: Index) -> None:
    c.hset(KEYS.fp(4242), fp_field(4242), np.array([777], "<u4").tobytes())


def _stale_fp(c: redis.Redis, idx: Index) -> None:
    n = _doc_number(c, "a")  # listed under a fingerprint its text does not give
    c.hset(KEYS.fp(4243), fp_field(4243), np.array([n], "<u4").tobytes())


def _missing_band(c: redis.Redis, idx: Index) -> None:
    n = _doc_number(c, "a")
    packed = np.array([n], "<u4").tobytes()
    for key in c.scan_iter(match=KEYS.pattern("lsh")):
        for f, v in c.hgetall(key).items():
            if v == packed:
                c.hdel(key, f)
                return


def _orphan_bytime(c: redis.Redis, idx: Index) -> None:
    c.zadd(KEYS.bytime, {"4242": 1.0})


def _missing_bytime(c: redis.Redis, idx: Index) -> None:
    c.zrem(KEYS.bytime, str(_doc_number(c, "a")))


def _orphan_signature(c: redis.Redis, idx: Index) -> None:
    c.hdel(KEYS.ids, "a")  # doc, signature and bands of "a" are now orphans


def _missing_signature(c: redis.Redis, idx: Index) -> None:
    n = _doc_number(c, "a")
    width = idx.config.num_perm * 4
    c.setrange(KEYS.sig_block(n), (n % 1024) * width, b"\0" * width)


CORRUPTIONS: list[tuple[str, Callable[[redis.Redis, Index], None]]] = [
    ("orphan_doc", _orphan_doc),
    ("dangling_id", _dangling_id),
    ("dangling_lsh_entry", _dangling_lsh),
    ("stale_lsh_entry", _stale_lsh),
    ("missing_band_entry", _missing_band),
    ("dangling_fp_entry", _dangling_fp),
    ("stale_fp_entry", _stale_fp),
    ("orphan_bytime", _orphan_bytime),
    ("missing_bytime", _missing_bytime),
    ("orphan_signature", _orphan_signature),
    ("missing_signature", _missing_signature),
]


@pytest.mark.parametrize(("kind", "corrupt"), CORRUPTIONS, ids=[k for k, _ in CORRUPTIONS])
def test_check_reports_each_kind_of_damage(
    index: Index,
    redis_client: redis.Redis,
    settings: Settings,
    kind: str,
    corrupt: Callable[[redis.Redis, Index], None],
) -> None:
    index.put(ArticleIn(article_text(1), id="a"))
    index.put(ArticleIn(article_text(2), id="b"))
    _ok(redis_client, settings)
    corrupt(redis_client, index)
    report = check(redis_client, settings.pipeline())
    assert kind in report.by_kind(), report.problems


def test_check_cli_exit_codes(index: Index, redis_client: redis.Redis, settings: Settings) -> None:
    index.put(ArticleIn(article_text(1), id="a"))
    runner = CliRunner()
    args = ["check", "--redis-url", settings.redis_url.get_secret_value()]  # type: ignore[union-attr]
    clean = runner.invoke(cli_app, args)
    assert clean.exit_code == 0, clean.output
    assert "no orphans" in clean.output
    _orphan_doc(redis_client, index)
    broken = runner.invoke(cli_app, [*args, "--json"])
    assert broken.exit_code == 1, broken.output
    assert '"orphan_doc": 1' in broken.output


# -- a write interrupted at every point ---------------------------------------------
class FaultyRedis(redis.Redis):
    """Fails the ``fail_at``-th command: before sending it, or after (reply lost)."""

    fail_at = 0
    after = False
    calls = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            if self.after:
                super().execute_command(*args, **options)
            raise redis.ConnectionError(f"injected failure at command {self.calls}: {args[0]}")
        return super().execute_command(*args, **options)


OLD, NEW = article_text(10), article_text(11)


def _create(idx: Index) -> None:
    idx.put(ArticleIn(NEW, id="x", title="new"))


def _replace(idx: Index) -> None:
    idx.put(ArticleIn(NEW, id="x", title="new"))


def _delete(idx: Index) -> None:
    idx.delete("x")


OPERATIONS = {"create": (None, _create), "replace": (OLD, _replace), "delete": (OLD, _delete)}


@pytest.mark.parametrize("after", [False, True], ids=["before-send", "reply-lost"])
@pytest.mark.parametrize("op", list(OPERATIONS))
def test_write_interrupted_at_every_command_leaves_no_trace(
    redis_server: RedisProcess, redis_client: redis.Redis, settings: Settings, op: str, after: bool
) -> None:
    before, operation = OPERATIONS[op]
    expected_after = None if op == "delete" else NEW
    for fail_at in range(1, 50):
        redis_client.flushdb()
        clean = Index(redis_client, settings.pipeline())
        clean.check_config()
        clean.put(ArticleIn(article_text(12), id="bystander"))
        if before is not None:
            clean.put(ArticleIn(before, id="x", title="old"))
        faulty = FaultyRedis.from_url(redis_server.url)
        idx = Index(faulty, settings.pipeline())
        idx.check_config()
        faulty.calls, faulty.fail_at, faulty.after = 0, fail_at, after
        try:
            operation(idx)
            failed = False
        except redis.ConnectionError:
            failed = True
        finally:
            faulty.close()
        _ok(redis_client, settings)
        stored = clean.get("x")
        # All or nothing: the old version or the new one, never a mix.
        assert (stored.text if stored else None) in {before, expected_after}, fail_at
        if stored is not None:
            assert stored.title == ("old" if stored.text == OLD else "new")
        operation(clean)  # the client retries: it converges on the new state
        _ok(redis_client, settings)
        stored = clean.get("x")
        assert (stored.text if stored else None) == expected_after
        assert clean.get("bystander") is not None
        if not failed:
            break  # fail_at is past the operation's last command: every point was tried
    else:
        pytest.fail("operation never completed")
    assert fail_at > 2  # the operation does take several commands


# -- replace and delete leave nothing behind ------------------------------------------
def test_replace_leaves_no_old_band_entries(
    index: Index, redis_client: redis.Redis, settings: Settings
) -> None:
    index.put(ArticleIn(article_text(20), id="x"))
    old_n = _doc_number(redis_client, "x")
    old_bands = index.keys.root.band_entries(  # noqa: SLF001
        __import__("shingling").analyse(article_text(20), index.config).bands
    )
    index.put(ArticleIn(article_text(21), id="x"))
    new_n = _doc_number(redis_client, "x")
    assert new_n != old_n
    packed_old = np.array([old_n], "<u4").tobytes()
    for key, f in zip(*old_bands, strict=True):
        v = redis_client.hget(key, f) or b""
        assert packed_old not in [v[i : i + 4] for i in range(0, len(v), 4)]
    every = b"".join(
        v
        for key in redis_client.scan_iter(match=KEYS.pattern("lsh"))
        for v in redis_client.hgetall(key).values()
    )
    docs = np.frombuffer(every, "<u4").tolist()
    assert old_n not in docs
    assert docs.count(new_n) == index.config.b
    listed = b"".join(
        v
        for key in redis_client.scan_iter(match=KEYS.pattern("fp"))
        for v in redis_client.hgetall(key).values()
    )
    assert old_n not in np.frombuffer(listed, "<u4").tolist()
    assert new_n in np.frombuffer(listed, "<u4").tolist()
    assert not redis_client.exists(KEYS.doc(old_n))
    assert redis_client.zscore(KEYS.bytime, str(old_n)) is None
    _ok(redis_client, settings)


def test_delete_removes_every_trace(
    index: Index, redis_client: redis.Redis, settings: Settings
) -> None:
    index.put(ArticleIn(article_text(30), id="x", title="t", source="s", url="u"))
    assert index.delete("x")
    keys = {k.decode() for k in redis_client.scan_iter(match=KEYS.prefix.replace("{", "[{]") + "*")}
    assert keys <= {KEYS.meta, KEYS.sig_block(1)}, keys
    assert not (redis_client.get(KEYS.sig_block(1)) or b"").strip(b"\0")  # slot zeroed
    assert index.get("x") is None
    assert not index.delete("x")
    _ok(redis_client, settings)


# -- killing Redis or the client mid-stream ----------------------------------------------
def _stream(
    idx: Index, worker: int, stop: threading.Event, log: dict[str, list[object]], limit: int = 3000
) -> None:
    """Creates, replaces and deletes until ``stop``, a Redis error or ``limit``;
    ``log['done']`` counts the operations written, ``log['ended']`` says why
    each writer stopped."""
    for i in range(limit):
        if stop.is_set():
            log["ended"].append(f"writer {worker}: stopped")
            return
        try:
            if i % 5 == 4:
                idx.delete(f"k{worker}-{i - 2}")
            else:
                # ids repeat across rounds: creates and replaces
                idx.put(ArticleIn(article_text(worker * 10_000 + i), id=f"k{worker}-{i % 40}"))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log["ended"].append(f"writer {worker} after {i} operations: {exc!r}")
            return
        log["done"].append(worker)
    log["ended"].append(f"writer {worker}: all {limit} operations")


@pytest.mark.slow
def test_redis_killed_mid_stream_restarts_consistent(tmp_path: Path, settings: Settings) -> None:
    server = RedisProcess(tmp_path / "aof", free_port(), appendonly=True)
    server.start()
    try:
        client = redis.Redis.from_url(server.url, socket_timeout=5)
        Index(client, settings.pipeline()).check_config()
        stop = threading.Event()
        log: dict[str, list[object]] = {"done": [], "ended": []}
        threads = [
            threading.Thread(
                target=_stream,
                args=(
                    # A generous timeout: the kill ends each writer with a
                    # ConnectionError at once, while a busy machine must not end
                    # one early with a TimeoutError before the kill.
                    Index(redis.Redis.from_url(server.url, socket_timeout=60), settings.pipeline()),
                    w,
                    stop,
                    log,
                ),
                daemon=True,
            )
            for w in range(4)
        ]
        for t in threads:
            t.start()
        # Wait until the writers are well under way: 80 operations written
        # (bounded: a loaded 2-core machine writes slowly, and what matters is
        # that they are mid-stream). Counted as operations, not stored ids:
        # deletes keep the id count of a writer below 40.
        deadline = time.monotonic() + 120
        while len(log["done"]) < 80 and time.monotonic() < deadline:
            assert all(t.is_alive() for t in threads), (
                f"a writer stopped before the kill: {log['ended']}"
            )
            time.sleep(0.01)
        assert len(log["done"]) >= 80, f"{len(log['done'])} operations in 120 s: {log['ended']}"
        assert client.hlen(KEYS.ids) > 0
        server.stop(kill=True)  # SIGKILL while 4 writers are mid-stream
        for t in threads:
            t.join(timeout=30)
        stop.set()
        server.start()
        client = redis.Redis.from_url(server.url, socket_timeout=5)
        report = check(client, settings.pipeline())
        assert report.ok, report.problems[:20]
        assert report.articles > 0
    finally:
        server.stop()


_CHILD = """
import sys
import redis
from service.model import ArticleIn
from service.storage.index import Index
from service.settings import get_settings
from tests.service.reliability.conftest import article_text
idx = Index(redis.Redis.from_url(sys.argv[1]), get_settings().pipeline())
for i in range(100_000):
    if i % 5 == 4:
        idx.delete(f"c-{i - 2}")
    else:
        idx.put(ArticleIn(article_text(i), id=f"c-{i % 50}"))
    print(i, flush=True)
"""


@pytest.mark.slow
def test_client_killed_mid_stream_leaves_index_consistent(
    redis_server: RedisProcess, redis_client: redis.Redis, settings: Settings
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, redis_server.url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        lines = 0
        while lines < 150 and time.monotonic() < deadline:
            if child.stdout.readline():
                lines += 1
            elif child.poll() is not None:
                break
        assert lines >= 150, "the writer did not get going"
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
    report = check(redis_client, settings.pipeline())
    assert report.ok, report.problems[:20]
    assert report.articles > 0
