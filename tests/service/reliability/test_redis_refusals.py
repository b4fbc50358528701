"""Redis refusing commands (not losing the connection): each is a 503 whose detail
tells the operator what to do, and nothing is half-stored.

Every case runs a real redis-server of its own on 127.0.0.1, put into the state
by Redis's own means: ``CONFIG SET maxmemory 1`` (OOM), a save that fails
(MISCONF), a replica (READONLY), a script that does not return (BUSY), an ACL
user without write commands (NOPERM). Waits poll with deadlines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from service.api import create_app
from service.devservers import RedisProcess, free_port
from service.settings import Settings, get_settings
from service.storage.check import check
from tests.service.reliability.conftest import article_text

A = {"id": "a", "text": article_text(1), "title": "first"}
B = {"id": "b", "text": article_text(2)}
A_AGAIN = {"id": "a", "text": article_text(3), "title": "second"}


def wait_for(what: str, ok: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, f"{what}: not after {timeout}s"
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    proc = RedisProcess(tmp_path / "redis", free_port())
    proc.start()
    yield proc
    proc.stop(kill=True)  # a server left refusing saves would refuse to shut down


def settings_for(url: str, tmp_path: Path) -> Settings:
    return get_settings(redis_url=url, data_dir=tmp_path / "data")


@pytest.fixture
def api(server: RedisProcess, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(server.url, tmp_path))) as client:
        yield client


def snapshot(client: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key and its serialised value: equal snapshots, nothing changed."""
    return {key: client.dump(key) for key in sorted(client.scan_iter(count=1000))}


def assert_refused(r: object, code: str, advice: str) -> None:
    status, body = r.status_code, r.json()  # type: ignore[attr-defined]
    assert status == 503, (status, body)
    assert f"({code})" in body["detail"] and advice in body["detail"], body
    assert "nothing was stored" in body["detail"]


def writes(api: TestClient) -> list[object]:
    """Every kind of write the API has, against the index holding article ``a``."""
    return [
        api.post("/articles", json=B),  # create
        api.post("/articles", json=A_AGAIN),  # replace
        api.post("/clusters/jobs", json={}),  # a clustering job
    ]


def test_out_of_memory_is_503_and_nothing_is_half_stored(
    api: TestClient, server: RedisProcess, settings: Settings
) -> None:
    client = redis.Redis(port=server.port)
    assert api.post("/articles", json=A).status_code == 201
    before = snapshot(client)
    client.config_set("maxmemory", 1)
    try:
        for r in writes(api):
            assert_refused(r, "OOM", "maxmemory")
        assert snapshot(client) == before
        assert api.get("/articles/a").json()["title"] == "first"  # reads still served
    finally:
        client.config_set("maxmemory", 0)
    assert api.get("/articles/b").status_code == 404
    assert api.get("/articles/a").json()["text"] == A["text"]
    assert api.get("/clusters/jobs").json() == []
    assert check(client, settings.pipeline()).ok
    assert api.post("/articles", json=B).status_code == 201  # and writes resume


def test_failed_save_is_503_until_a_save_succeeds(api: TestClient, server: RedisProcess) -> None:
    client = redis.Redis(port=server.port)
    assert api.post("/articles", json=A).status_code == 201
    client.config_set("save", "3600 1")  # stop-writes-on-bgsave-error applies with saves on
    server.workdir.rmdir()  # Redis's dir is gone: the snapshot cannot be written

    def last_save(status: str) -> Callable[[], bool]:
        def done() -> bool:
            info = client.info("persistence")
            return not info["rdb_bgsave_in_progress"] and info["rdb_last_bgsave_status"] == status

        return done

    client.bgsave()
    wait_for("failed BGSAVE", last_save("err"))
    before = snapshot(client)
    for r in writes(api):
        assert_refused(r, "MISCONF", "disk")
    assert snapshot(client) == before
    server.workdir.mkdir()
    client.config_set("dir", str(server.workdir))  # Redis's cwd was the removed folder
    client.bgsave()
    wait_for("successful BGSAVE", last_save("ok"))
    assert api.post("/articles", json=B).status_code == 201


def test_read_only_replica_is_503_pointing_at_the_primary(
    server: RedisProcess, tmp_path: Path
) -> None:
    primary = redis.Redis(port=server.port)
    with TestClient(create_app(settings_for(server.url, tmp_path))) as on_primary:
        assert on_primary.post("/articles", json=A).status_code == 201
    replica = RedisProcess(tmp_path / "replica", free_port())
    replica.start()
    try:
        redis.Redis(port=replica.port).replicaof("127.0.0.1", server.port)
        wait_for("replica in sync", lambda: primary.execute_command("WAIT", 1, 100) == 1)
        before = snapshot(primary)
        with TestClient(create_app(settings_for(replica.url, tmp_path))) as api:
            # Reads too: the index checks its config with HSETNX, a write. copydesk
            # needs the primary (docs/reliability.md).
            for r in [*writes(api), api.delete("/articles/a"), api.get("/articles/a")]:
                assert_refused(r, "READONLY", "COPYDESK_REDIS_URL at the primary")
        assert snapshot(primary) == before
    finally:
        replica.stop(kill=True)


def test_busy_script_is_503_with_retry_after(api: TestClient, server: RedisProcess) -> None:
    assert api.post("/articles", json=A).status_code == 201
    client = redis.Redis(port=server.port)
    client.config_set("lua-time-limit", 10)  # BUSY replies after 10 ms of script

    def run_forever() -> None:
        with pytest.raises(redis.ResponseError, match="SCRIPT KILL"):
            redis.Redis(port=server.port).eval("while true do end", 0)

    def busy() -> bool:
        try:
            client.ping()
        except redis.ResponseError as exc:
            return str(exc).startswith("BUSY")
        return False

    looping = threading.Thread(target=run_forever, daemon=True)
    looping.start()
    try:
        wait_for("BUSY replies", busy)
        for r in [*writes(api), api.get("/articles/a")]:
            assert_refused(r, "BUSY", "SCRIPT KILL")
            assert r.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    finally:
        client.script_kill()
        looping.join(timeout=10)
    assert not looping.is_alive()
    assert api.get("/articles/a").json()["title"] == "first"


def test_acl_without_writes_is_503_naming_the_acl(server: RedisProcess, tmp_path: Path) -> None:
    admin = redis.Redis(port=server.port)
    with TestClient(create_app(settings_for(server.url, tmp_path))) as full:
        assert full.post("/articles", json=A).status_code == 201
    admin.acl_setuser(
        "reader",
        enabled=True,
        passwords=["+pw-secret-1"],
        keys=["*"],
        # HSETNX: the index's config check, a no-op once the index exists.
        commands=["+@all", "-@write", "-@scripting", "+hsetnx"],
    )
    before = snapshot(admin)
    url = f"redis://reader:pw-secret-1@127.0.0.1:{server.port}/0"
    with TestClient(create_app(settings_for(url, tmp_path))) as api:
        assert api.get("/articles/a").status_code == 200
        for r in writes(api):
            assert_refused(r, "NOPERM", "ACL")
            assert "pw-secret-1" not in r.text  # type: ignore[attr-defined]
    assert snapshot(admin) == before
