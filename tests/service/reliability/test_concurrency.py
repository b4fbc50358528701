"""Many clients writing the same and different ids at once: no 5xx, and the
index ends consistent (``service.storage.check`` finds nothing)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import httpx
import pytest
import redis

from service.devservers import RedisProcess
from service.settings import Settings
from service.storage.check import check
from tests.service.reliability.conftest import ServeProcess, article_text

CLIENTS = 16
OPS_PER_CLIENT = 30
HOT_IDS = ["hot-0", "hot-1", "hot-2"]
DEADLINE = 120.0


async def _client(base_url: str, c: int, posted: dict[str, set[str]], codes: Counter[int]) -> None:
    rng = random.Random(c)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for i in range(OPS_PER_CLIENT):
            roll = rng.random()
            if roll < 0.4:
                article_id = rng.choice(HOT_IDS)  # the same ids from every client
                text = article_text(rng.randrange(6), seed=7)
                posted.setdefault(article_id, set()).add(text)
                r = await http.post("/articles", json={"id": article_id, "text": text})
            elif roll < 0.7:
                article_id = f"c{c}-{i}"
                text = article_text(1000 + c * 100 + i)
                posted.setdefault(article_id, set()).add(text)
                r = await http.post("/articles", json={"id": article_id, "text": text})
            elif roll < 0.8:
                r = await http.delete(f"/articles/{rng.choice(HOT_IDS)}")
            elif roll < 0.9:
                text = article_text(rng.randrange(6), seed=7)
                r = await http.post("/articles/match", json={"text": text})
            else:
                r = await http.get(f"/articles/{rng.choice(HOT_IDS)}/matches")
            codes[r.status_code] += 1
            assert r.status_code < 500, r.text


@pytest.mark.slow
def test_concurrent_writers_end_consistent(
    serve_factory: type[ServeProcess],
    redis_server: RedisProcess,
    redis_client: redis.Redis,
    settings: Settings,
) -> None:
    server = serve_factory(redis_url=redis_server.url)
    server.start()
    posted: dict[str, set[str]] = {}
    codes: Counter[int] = Counter()

    async def run() -> None:
        await asyncio.wait_for(
            asyncio.gather(*(_client(server.base_url, c, posted, codes) for c in range(CLIENTS))),
            DEADLINE,
        )

    asyncio.run(run())
    assert sum(codes.values()) == CLIENTS * OPS_PER_CLIENT
    assert set(codes) <= {200, 201, 204, 404, 409}, codes  # 409: a lost race, retry
    report = check(redis_client, settings.pipeline())
    assert report.ok, report.problems[:20]
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for article_id, texts in posted.items():
            r = http.get(f"/articles/{article_id}")
            if article_id in HOT_IDS and r.status_code == 404:
                continue  # deleted last
            assert r.status_code == 200
            assert r.json()["text"] in texts  # one whole version, never a mix
    assert report.articles == redis_client.hlen("{cd:default}:ids")


async def _writer_until(base_url: str, w: int, done: asyncio.Event, codes: Counter[int]) -> int:
    """Posts (creates and syndicated reworks) until ``done``; bounded to 400 requests."""
    writes = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for i in range(400):
            if done.is_set():
                break
            r = await http.post(
                "/articles", json={"id": f"live{w}-{i}", "text": article_text(i % 25, seed=w % 2)}
            )
            codes[r.status_code] += 1
            assert r.status_code < 500, r.text
            writes += 1
    return writes


@pytest.mark.slow
def test_clustering_job_runs_during_writes(
    serve_factory: type[ServeProcess],
    redis_server: RedisProcess,
    redis_client: redis.Redis,
    settings: Settings,
) -> None:
    server = serve_factory(redis_url=redis_server.url)
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        if "/clusters/jobs" not in http.get("/openapi.json").json()["paths"]:
            pytest.skip("no clustering job route in this build")
        for i in range(60):  # 30 pairs of reworks of the same copy
            r = http.post("/articles", json={"id": f"seed{i}", "text": article_text(i // 2)})
            assert r.status_code in (200, 201)
    codes: Counter[int] = Counter()

    async def run() -> tuple[dict[str, object], int, int]:
        done = asyncio.Event()
        writers = [
            asyncio.create_task(_writer_until(server.base_url, w, done, codes)) for w in range(4)
        ]
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            await asyncio.sleep(0)  # let the writers start
            before = sum(codes.values())
            r = await http.post("/clusters/jobs", json={})
            assert r.status_code == 202, r.text
            job_id = r.json()["job_id"]
            deadline = asyncio.get_running_loop().time() + DEADLINE
            while True:
                status = (await http.get(f"/clusters/jobs/{job_id}")).json()
                if status["status"] in ("done", "failed"):
                    break
                assert asyncio.get_running_loop().time() < deadline, status
                await asyncio.sleep(0.05)
            during = sum(codes.values()) - before
            done.set()
            await asyncio.gather(*writers)
            result = await http.get(f"/clusters/jobs/{job_id}/result")
            assert result.status_code == 200, result.text
            return {"status": status, "result": result.json()}, during, sum(codes.values())

    outcome, during, total = asyncio.run(asyncio.wait_for(run(), DEADLINE + 30))
    status = outcome["status"]
    assert isinstance(status, dict) and status["status"] == "done", status
    assert total > 0 and during > 0  # writes went on while the job ran
    assert set(codes) <= {200, 201}, codes  # writes never blocked into errors
    clusters = outcome["result"]["clusters"]  # type: ignore[index]
    members = [m for c in clusters for m in c["members"]]
    assert len(members) == len(set(members))  # every article in at most one cluster
    assert len(clusters) >= 30  # the seeded pairs were all found
    report = check(redis_client, settings.pipeline())
    assert report.ok, report.problems[:20]


@pytest.mark.slow
def test_load_driver_is_bounded_and_reports() -> None:
    from bench.load import run

    result = run(clients=2, seconds=2.0, max_requests=40, match_share=0.5)
    assert 0 < result["requests"] <= 40  # type: ignore[operator]
    assert result["errors"] == {}
    assert set(result["latency_ms"]) <= {"post", "match"}  # type: ignore[arg-type]
