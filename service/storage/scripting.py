"""The Lua scripts of ``service/storage/lua``, and many calls of one sent as one write.

Each script is loaded with ``lib.lua`` prepended (Redis 6 scripts cannot
share code otherwise); each script's header lists its KEYS and ARGV.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import hiredis
import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script

#: One call of a script: its KEYS and its ARGV.
Call = tuple[Sequence[str | bytes], Sequence[str | bytes | int | float]]


def source(name: str) -> str:
    """A script of ``service/storage/lua`` with the shared ``lib.lua`` prepended."""
    lua = resources.files("service.storage").joinpath("lua")
    return lua.joinpath("lib.lua").read_text() + "\n" + lua.joinpath(name).read_text()


def run_many(client: redis.Redis, script: Script, calls: Sequence[Call]) -> list[Any]:
    """Run ``script`` once per call, pipelined; the replies in call order.

    What a redis-py pipeline of ``script(keys, args, client=pipe)`` does, but
    each EVALSHA is packed by hiredis in C: bulk ingest sends ~30 arguments
    per article, and redis-py's per-argument Python was about half of the
    client's CPU for writing them (docs/benchmarks.md).

    - A script Redis does not hold (after a restart or ``SCRIPT FLUSH``) ran
      for none of those calls: it is loaded and they are sent again.
    - An error reply is raised once every reply has been read (the first
      one), as ``Pipeline.execute`` does; the calls before and after it ran.
    - A dropped connection is retried under the client's retry policy by
      sending the whole batch again, as redis-py retries a pipeline: every
      call must be safe to repeat (``put.lua`` and ``remove.lua`` check what
      they expect before writing, and answer CONFLICT or MISSING otherwise).
    """
    if not calls:
        return []
    if isinstance(client, RedisCluster):
        return _run_on_nodes(client, script, calls)
    replies = _send(client, [_packed(script.sha, call) for call in calls])
    missing = [i for i, r in enumerate(replies) if isinstance(r, redis.exceptions.NoScriptError)]
    if missing:
        client.script_load(script.script)
        again = _send(client, [_packed(script.sha, calls[i]) for i in missing])
        for i, reply in zip(missing, again, strict=True):
            replies[i] = reply
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            raise reply
    return replies


def _run_on_nodes(client: RedisCluster, script: Script, calls: Sequence[Call]) -> list[Any]:
    """``run_many`` on a Redis Cluster: the calls grouped by the master that
    serves their first key's slot (every key of a call shares it), one
    pipelined write per master. redis-py's cluster pipeline refuses EVALSHA;
    each master's own client does not. A slot that moved since the client
    last read the slot map answers MOVED (raised, as any error reply): the
    client refreshes its map, and the caller's retry goes to the new owner."""
    groups: dict[str, tuple[redis.Redis, list[int]]] = {}
    for i, (keys, _) in enumerate(calls):
        node = client.get_node_from_key(keys[0])  # type: ignore[no-untyped-call]
        groups.setdefault(node.name, (node.redis_connection, []))[1].append(i)
    replies: list[Any] = [None] * len(calls)
    for node_client, rows in groups.values():
        try:
            got = run_many(node_client, script, [calls[i] for i in rows])
        except redis.ResponseError as exc:
            if str(exc).startswith(("MOVED", "ASK")):
                client.nodes_manager.initialize()
            raise
        for i, reply in zip(rows, got, strict=True):
            replies[i] = reply
    return replies


def _packed(sha: str, call: Call) -> bytes:
    keys, args = call
    command: tuple[Any, ...] = ("EVALSHA", sha, len(keys), *keys, *args)
    packed: bytes = hiredis.pack_command(command)
    return packed


def _send(client: redis.Redis, commands: list[bytes]) -> list[Any]:
    """Send packed commands in one write on one pooled connection; read every
    reply (an error reply is returned, not raised, so the stream stays in step)."""
    payload = b"".join(commands)

    def exchange() -> list[Any]:
        conn.send_packed_command([payload])  # type: ignore[no-untyped-call]
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(conn.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies

    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        replies: list[Any] = conn.retry.call_with_retry(exchange, lambda _: _drop(conn))
        return replies
    except BaseException:
        _drop(conn)  # replies may be left unread: never pool a connection out of step
        raise
    finally:
        pool.release(conn)


def _drop(conn: Any) -> None:
    """Close a connection that failed mid-exchange: the retry opens a new one."""
    conn.disconnect()
