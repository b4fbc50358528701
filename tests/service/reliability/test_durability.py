"""kill -9 during a stream of writes: no acknowledged write is lost.

``copydesk serve`` runs as a child process on 127.0.0.1 with the embedded
Redis in a temporary ``--data-dir``. Writer threads create, replace and delete
articles; once enough writes are acknowledged the server process and its
redis-server are SIGKILLed together while writes are still in flight. The
restarted server must hold exactly the acknowledged state (a write that was in
flight may or may not have landed, but never half), answer matches for it,
and ``copydesk check`` must find no orphan or dangling reference.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from service.settings import get_settings
from service.storage.check import Report, check
from tests.service.reliability.conftest import ServeProcess, article_text, wait_dead

WRITERS = 4
MAX_OPS = 4000  # per writer: the stream is bounded in count ...
STREAM_SECONDS = 60.0  # ... and in time
KILL_AFTER_ACKS = 150

_DELETED = "<deleted>"


@dataclass
class Ledger:
    """What the clients were told (acked) and what might have landed (inflight)."""

    acked: dict[str, str] = field(default_factory=dict)  # id -> text or _DELETED
    inflight: dict[str, str] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)


def _writer(base_url: str, w: int, ledger: Ledger, stop: threading.Event) -> None:
    rng = random.Random(w)
    mine: list[str] = []
    deadline = time.monotonic() + STREAM_SECONDS
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for step in range(MAX_OPS):
            if stop.is_set() or time.monotonic() > deadline:
                return
            live = [i for i in mine if ledger.acked.get(i) != _DELETED]
            if live and step % 7 == 6:
                article_id, text = rng.choice(live), _DELETED
            elif live and step % 5 == 4:
                article_id = rng.choice(live)
                text = article_text(hash(article_id) % 10_000, seed=step)
            else:
                article_id = f"w{w}-{step}"
                text = article_text(w * MAX_OPS + step)
                mine.append(article_id)
            with ledger.lock:
                ledger.inflight[article_id] = text
            try:
                if text == _DELETED:
                    r = client.delete(f"/articles/{article_id}")
                    ok = r.status_code == 204
                else:
                    r = client.post("/articles", json={"id": article_id, "text": text})
                    ok = r.status_code in (200, 201)
            except httpx.TransportError:
                return  # the server is gone: this write was never acknowledged
            if r.status_code >= 500:
                ledger.server_errors.append(f"{r.status_code} {r.text}")
                return  # e.g. 503 once Redis is killed first: not acknowledged
            assert ok, (article_id, r.status_code, r.text)
            with ledger.lock:
                ledger.acked[article_id] = text
                del ledger.inflight[article_id]


def _stream_then_kill(server: ServeProcess, kill: str) -> Ledger:
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(server.base_url, w, ledger, stop), daemon=True)
        for w in range(WRITERS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + STREAM_SECONDS
    while ledger.count() < KILL_AFTER_ACKS and time.monotonic() < deadline:
        assert any(t.is_alive() for t in threads), "writers stopped early"
        time.sleep(0.01)
    assert ledger.count() >= KILL_AFTER_ACKS, "too few acknowledged writes before the kill"
    redis_pid = server.redis_pid()
    assert redis_pid is not None
    if kill == "server+redis":
        server.kill_all()
    else:
        server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
    if kill == "server":
        # The daemonised redis-server survives its client; the restart reuses it.
        assert server.redis_pid() == redis_pid
    return ledger


def _verify(server: ServeProcess, ledger: Ledger) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for article_id, text in ledger.acked.items():
            possible = {text, ledger.inflight.get(article_id, text)}
            r = client.get(f"/articles/{article_id}")
            if _DELETED in possible and r.status_code == 404:
                continue
            assert r.status_code == 200, (article_id, r.status_code, r.text)
            assert r.json()["text"] in possible, article_id
        # Acknowledged and in-flight alike, whatever landed is queryable.
        live = [
            i
            for i, t in ledger.acked.items()
            if t != _DELETED and ledger.inflight.get(i) != _DELETED
        ]
        for article_id in random.Random(0).sample(live, min(40, len(live))):
            text = client.get(f"/articles/{article_id}").json()["text"]
            r = client.post("/articles/match", json={"text": text})
            assert r.status_code == 200
            found = {m["id"]: m for m in r.json()["matches"]}
            assert article_id in found, article_id
            assert found[article_id]["verdict"] == "duplicate"
            assert found[article_id]["jaccard"] == 1.0


def _check(server: ServeProcess) -> Report:
    """``service.storage.check`` on the restarted server's embedded Redis, over its socket."""
    registry = json.loads((server.data_dir / "copydesk.rdb.settings").read_text())
    client = redis.Redis(unix_socket_path=registry["unixsocket"], socket_timeout=30)
    try:
        return check(client, get_settings().pipeline())
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fsync", "kill"),
    [("always", "server+redis"), ("everysec", "server+redis"), ("everysec", "server")],
)
def test_kill_9_loses_no_acknowledged_write(
    serve_factory: type[ServeProcess], fsync: str, kill: str
) -> None:
    server = serve_factory(env={"COPYDESK_APPENDFSYNC": fsync})
    server.start()
    ledger = _stream_then_kill(server, kill)
    assert not ledger.server_errors or kill == "server+redis", ledger.server_errors

    server.start()  # same data dir: the AOF is replayed
    _verify(server, ledger)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        ready = client.get("/readyz").json()
    live = sum(1 for t in ledger.acked.values() if t != _DELETED)
    possible_extra = sum(1 for t in ledger.inflight.values() if t != _DELETED)
    assert live - len(ledger.inflight) <= ready["articles"] <= live + possible_extra

    report = _check(server)
    assert report.ok, report.problems[:20]
    assert report.articles == ready["articles"]

    pid = server.redis_pid()
    assert server.stop() == 0
    if pid is not None:
        wait_dead(pid, timeout=15)  # a clean stop takes the embedded Redis down too
