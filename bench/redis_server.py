"""Throwaway servers on 127.0.0.1 for benchmarks: a redis-server, and
``copydesk serve`` itself.

The redis-server is service.devservers.RedisProcess (as in tests/conftest.py);
persistence is off so disk does not enter the figures; hash encoding limits
are the ones ``service.storage.server`` asks of any Redis it uses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import redis

from service.devservers import RedisProcess, free_port
from service.storage.server import tune

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def redis_server(timeout: float = 10.0, *, restore: Path | None = None) -> Iterator[redis.Redis]:
    """A client of a fresh redis-server; the server stops on exit.

    Empty, or loaded from the RDB file ``restore`` (read only: the server
    never saves; a million-article snapshot takes ~40 s to load, so give a
    ``timeout`` to match).
    """
    with tempfile.TemporaryDirectory(prefix="copydesk-bench-redis-") as workdir:
        server = RedisProcess(Path(workdir))
        if restore is not None:
            server = RedisProcess(restore.parent.resolve(), dbfilename=restore.name)
        server.start(timeout)
        client = server.client(socket_timeout=600)
        try:
            tune(client)
            yield client
        finally:
            client.close()
            server.stop()


@dataclass(frozen=True)
class Served:
    """A running ``copydesk serve``: its base URL, and its process (for CPU time)."""

    url: str
    process: psutil.Process


@contextmanager
def copydesk_server(*args: str, timeout: float = 90.0) -> Iterator[Served]:
    """``copydesk serve *args`` on a free loopback port, outside any COPYDESK_*
    environment; yields it once /readyz answers 200, and stops it (SIGTERM,
    then kill) on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"copydesk serve exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"copydesk serve not ready on {base} within {timeout}s")
            time.sleep(0.1)
        yield Served(base, psutil.Process(proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
