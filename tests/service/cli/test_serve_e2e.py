"""`copydesk serve` on the embedded Redis, end to end, across a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import redis

from service.devservers import free_port


@contextmanager
def serve(data_dir: Path, *extra: str) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready in 60 s"
            time.sleep(0.1)
        yield client, proc
    finally:
        client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def _redis_children(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    try:
        return [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "redis-server" in p.name()
        ]
    except psutil.NoSuchProcess:
        return []


def _embedded_redis_running(data_dir: Path) -> bool:
    for p in psutil.process_iter(["name", "cwd"]):
        try:
            if "redis-server" in (p.info["name"] or "") and p.info["cwd"] == str(data_dir):
                return True
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return False


def test_serve_seeds_restart(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    data = tmp_path / "data"
    with serve(data) as (http, proc):
        for key, text in seed_texts.items():
            assert http.post("/articles", json={"id": key, "text": text}).status_code == 201
        m = http.get("/articles/001/matches").json()["matches"]
        assert [(x["id"], x["verdict"]) for x in m] == [("000", "syndicated")]
        assert all(0 < m[0][f] <= 1 for f in ("jaccard", "containment", "reverse_containment"))
        again = http.post("/articles", json={"id": "000", "text": seed_texts["000"]})
        assert again.status_code == 200
        assert http.post("/articles", json={"id": "empty", "text": " "}).status_code == 422
        assert http.get("/articles/empty").status_code == 404
        http.post("/articles", json={"id": "tmp", "text": seed_texts["002"]})
        assert http.delete("/articles/tmp").status_code == 204
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert not _embedded_redis_running(data), "embedded Redis outlived `copydesk serve`"

    with serve(data) as (http, _):
        assert http.get("/readyz").json()["articles"] == 5
        for key, text in seed_texts.items():
            assert http.get(f"/articles/{key}").json()["text"] == text
        m = http.get("/articles/000/matches").json()["matches"]
        assert [(x["id"], x["verdict"]) for x in m] == [("001", "syndicated")]
        assert http.get("/articles/tmp").status_code == 404


def test_serve_ingest_flag_loads_seeds(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parents[2].parent / "seeds"
    with serve(tmp_path / "d", "--ingest", str(seeds)) as (http, _):
        assert http.get("/readyz").json()["articles"] == 5
        ids = {p.stem for p in seeds.glob("*.txt")}
        first = sorted(ids)[0]
        assert http.get(f"/articles/{first}/matches").json()["matches"][0]["verdict"] == (
            "syndicated"
        )


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A ``copydesk`` command as a second process on the server's data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "service", *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_commands_share_the_running_servers_redis(tmp_path: Path) -> None:
    """`copydesk match` (or ingest, align, check ...) beside a running `serve`
    on one data dir attaches to its embedded Redis and leaves it running."""
    seeds = Path(__file__).resolve().parents[2].parent / "seeds"
    first, second = sorted(seeds.glob("*.txt"))[:2]
    data = tmp_path / "data"
    with serve(data) as (http, proc):
        registry = json.loads((data / "copydesk.rdb.settings").read_text())
        redis_pid = int(Path(registry["pidfile"]).read_text())
        for args in (
            ("ingest", str(seeds)),
            ("match", str(first)),
            ("align", str(first), str(second)),
            ("check",),
        ):
            done = _cli(data, *args)
            assert done.returncode == 0, (args, done.stderr)
            with redis.Redis(unix_socket_path=registry["unixsocket"], socket_timeout=5) as r:
                assert r.ping(), f"`copydesk {args[0]}` stopped the server's Redis"
            assert http.get("/readyz").status_code == 200, args
        assert http.get("/readyz").json()["articles"] == 5  # what `ingest` wrote, served
        m = http.get(f"/articles/{second.stem}/matches").json()["matches"]
        assert [x["id"] for x in m] == [first.stem]
        assert int(Path(registry["pidfile"]).read_text()) == redis_pid  # one server throughout
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert not _embedded_redis_running(data), "embedded Redis outlived its last user"
    assert not (data / "copydesk.rdb.settings").exists(), "a clean stop left its record"
