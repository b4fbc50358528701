"""A Redis Cluster master dies under writes: what API clients see, and recovery.

Three masters, no replicas, AOF on (a restarted master keeps its data). With
one master down, an article whose partition it holds is refused with a 503
that says what to do; one whose partition is elsewhere is written, and its
reply is a 503 saying it was stored but its matches could not be read (the
query needs every partition). Never a 500. When the master is back, every
request succeeds and ``check`` finds the index whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api import create_app
from service.devservers import LocalCluster
from service.settings import get_settings
from service.storage.check import check
from service.storage.index import Index


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    c = LocalCluster(tmp_path / "cluster", masters=3, appendonly=True)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _text(i: int) -> str:
    return " ".join(f"story{i} word{(i * 31 + j) % 997} item{j}" for j in range(60))


def test_a_dead_master_gives_clear_503s_and_the_index_recovers(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    settings = get_settings(
        redis_url=cluster.url, data_dir=tmp_path / "data", redis_timeout=1.0, redis_cluster=True
    )
    client = cluster.client(socket_timeout=1, socket_connect_timeout=1)
    with TestClient(create_app(settings, client=client)) as api:
        index: Index = api.app.state.index  # type: ignore[attr-defined]
        assert index.partitions == 3
        for i in range(12):
            assert api.post("/articles", json={"id": f"a{i}", "text": _text(i)}).status_code < 300

        # The master serving partition 1 goes down (kill -9).
        part = index.keys.parts[1]
        port = int(client.get_node_from_key(part.ids).port)
        dead = cluster.ports.index(port)
        cluster.stop_node(dead, kill=True)

        answers: dict[str, tuple[int, str]] = {}
        for i in range(12, 24):  # bounded: 12 writes while it is down
            r = api.post("/articles", json={"id": f"a{i}", "text": _text(i)})
            answers[f"a{i}"] = (r.status_code, r.text)
        assert all(code in (200, 201, 503) for code, _ in answers.values()), answers
        on_dead = {a for a in answers if index.keys.partition_of(a) == 1}
        elsewhere = set(answers) - on_dead
        assert on_dead and elsewhere
        for a in on_dead:
            code, body = answers[a]
            assert code == 503 and "nothing was stored" in body, body
        for a in elsewhere:
            code, body = answers[a]
            assert code == 503 and "was created, but its matches could not be read" in body, body

        # It comes back: every request succeeds, and nothing is half-written.
        cluster.start_node(dead)
        cluster.wait_ok()
        client.nodes_manager.initialize()
        for a in sorted(answers, key=lambda s: int(s[1:])):
            i = int(a[1:])
            r = api.post("/articles", json={"id": a, "text": _text(i)})
            want = "unchanged" if a in elsewhere else "created"
            assert r.status_code < 300 and r.json()["status"] == want, (a, r.text)
        assert api.get("/articles/a5").status_code == 200  # written before the outage
        report = check(client, settings.pipeline(), index=settings.index)
        assert report.ok, report.problems
        assert report.articles == 24 and report.partitions == 3
