"""service.devservers: throwaway redis-servers on 127.0.0.1 (the Redis Cluster
is exercised by tests/service/reliability/test_cluster_failover.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from service.devservers import RedisProcess, free_cluster_port, free_port


def test_free_ports_are_bindable_on_loopback() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))
    port = free_cluster_port()
    assert port + 10000 < 65536


def test_a_server_listens_on_loopback_only_and_restarts_on_its_port(tmp_path: Path) -> None:
    with RedisProcess(tmp_path / "redis", appendonly=True) as server:
        assert server.proc is not None
        listening = {
            c.laddr.ip
            for c in psutil.Process(server.proc.pid).net_connections("tcp")
            if c.status == psutil.CONN_LISTEN
        }
        assert listening == {"127.0.0.1"}
        client = server.client(socket_timeout=5)
        client.set("k", "v")
        server.stop(kill=False)
        server.start()
        assert client.get("k") == b"v"  # same port, same files (the AOF)
        client.close()
    assert server.proc is None


def test_a_snapshot_is_loaded_and_never_rewritten(tmp_path: Path) -> None:
    with RedisProcess(tmp_path) as server:
        client = server.client()
        client.set("k", "v")
        client.save()
        client.close()
    (tmp_path / "dump.rdb").rename(tmp_path / "saved.rdb")
    before = (tmp_path / "saved.rdb").read_bytes()
    with RedisProcess(tmp_path, dbfilename="saved.rdb") as server:
        client = server.client()
        assert client.get("k") == b"v"
        client.set("k", "changed")
        client.close()
    assert (tmp_path / "saved.rdb").read_bytes() == before


def test_a_server_that_cannot_start_says_so(tmp_path: Path) -> None:
    bad = RedisProcess(tmp_path, dbfilename="not/a/file/name.rdb")  # redis refuses paths
    with pytest.raises(RuntimeError, match="redis-server exited"):
        bad.start(timeout=5)
    assert bad.proc is None
