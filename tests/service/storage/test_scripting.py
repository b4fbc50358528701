"""service.storage.scripting.run_many: many calls of one script in one write, on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.retry import Retry

from service.devservers import RedisProcess
from service.storage import scripting

# Appends its argument to a list, so the list shows which calls ran, in what order.
_APPEND = """
if ARGV[1] == 'bad' then return redis.error_reply('bad call') end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 'OK'
"""


@pytest.fixture
def client(redis_server: RedisProcess) -> Iterator[redis.Redis]:
    """A client that retries a dropped connection once, at once."""
    made = redis.Redis.from_url(redis_server.url, socket_timeout=5, retry=Retry(NoBackoff(), 1))
    made.flushdb()
    made.script_flush()
    yield made
    made.flushdb()
    made.close()


def _calls(values: list[str]) -> list[scripting.Call]:
    return [(["log"], [v]) for v in values]


def test_replies_come_back_in_call_order_and_every_call_ran(client: redis.Redis) -> None:
    script = client.register_script(_APPEND)
    values = [f"v{i}" for i in range(300)]
    assert scripting.run_many(client, script, _calls(values)) == [b"OK"] * 300
    assert client.lrange("log", 0, -1) == [v.encode() for v in values]


def test_no_calls_send_nothing(client: redis.Redis) -> None:
    script = client.register_script(_APPEND)
    assert scripting.run_many(client, script, []) == []
    assert client.script_exists(script.sha) == [False]


def test_a_script_redis_lost_is_loaded_and_each_call_runs_once(client: redis.Redis) -> None:
    script = client.register_script(_APPEND)
    scripting.run_many(client, script, _calls(["a"]))
    client.script_flush()
    assert scripting.run_many(client, script, _calls(["b", "c"])) == [b"OK", b"OK"]
    assert client.lrange("log", 0, -1) == [b"a", b"b", b"c"]


def test_an_error_reply_raises_after_the_other_calls_ran(client: redis.Redis) -> None:
    script = client.register_script(_APPEND)
    with pytest.raises(redis.ResponseError, match="bad call"):
        scripting.run_many(client, script, _calls(["a", "bad", "b"]))
    assert client.lrange("log", 0, -1) == [b"a", b"b"]
    # Every reply was read: the pooled connection is still in step.
    assert scripting.run_many(client, script, _calls(["c"])) == [b"OK"]
    assert client.lrange("log", 0, -1) == [b"a", b"b", b"c"]


def test_a_dropped_connection_is_retried_with_the_whole_batch(client: redis.Redis) -> None:
    script = client.register_script(_APPEND)
    scripting.run_many(client, script, _calls(["a"]))  # the pool now holds a connection
    killed = client.client_kill_filter(_type="normal", skipme=False)
    assert killed >= 1
    assert scripting.run_many(client, script, _calls(["b", "c"])) == [b"OK", b"OK"]
    assert client.lrange("log", 0, -1) == [b"a", b"b", b"c"]


def test_packing_is_redis_pys_own() -> None:
    """hiredis packs what redis-py would: str as UTF-8, numbers as their repr."""
    call: scripting.Call = (
        ["{cd:x}:ids", b"{cd:x}:doc:\xff"],
        ["id-é", b"\x00\x01bytes", 7, -3, 1700000000.125, 0.1, ""],
    )
    keys, args = call
    expected = b"".join(Connection().pack_command("EVALSHA", "f" * 40, 2, *keys, *args))
    assert scripting._packed("f" * 40, call) == expected


def test_an_exchange_cut_short_never_pools_a_connection_out_of_step(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = client.register_script(_APPEND)
    client.script_load(_APPEND)  # so all three calls run
    read = Connection.read_response
    seen = 0

    def cut_after_one(self: Connection, *args: object, **kwargs: object) -> object:
        nonlocal seen
        seen += 1
        if seen == 2:
            raise RuntimeError("cut short")
        return read(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "read_response", cut_after_one)
    with pytest.raises(RuntimeError, match="cut short"):
        scripting.run_many(client, script, _calls(["a", "b", "c"]))
    monkeypatch.setattr(Connection, "read_response", read)
    # Two replies were never read; a pooled connection holding them would
    # answer the next command with a stale "OK".
    assert client.lrange("log", 0, -1) == [b"a", b"b", b"c"]
