"""Running a clustering job: in this process (``execute``) or in a spawned child.

``execute`` claims a queued job (``service.jobs.store``), runs
``service.jobs.run.cluster`` over the index with a heartbeat thread beside
it, and records the summary and result, or the failure.

Worker: each API job runs in its own child process, spawned by the process
that accepted it (``JobRunner``). Why not a thread: the linking is CPU-bound
numpy and Python, and in a thread of the API process it holds the GIL against
the request handlers (bench/batch_job.py ``latency`` measures the difference,
see docs/clustering.md). Why not rq/arq: both need a separately deployed,
supervised worker process and a new dependency for what is one long call per
job; a child the service owns needs neither, and the state lives in Redis
anyway. A job interrupted by a restart is reported ``failed`` on its next
read (``JobStore``).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import redis
from redis.cluster import ClusterNode, RedisCluster

from service.jobs.run import cluster
from service.jobs.sources import IndexSource
from service.jobs.store import JobParams, JobStatus, JobStore
from service.storage.keys import IndexKeys, load_keys
from shingling import PipelineConfig, Thresholds
from shingling.families import DEFAULT_WIRE_SOURCES, Cluster

log = logging.getLogger("copydesk.clustering")

_CONN_KEYS = {
    "host",
    "port",
    "db",
    "username",
    "password",
    "path",
    "socket_timeout",
    "socket_connect_timeout",
    "client_name",
    "health_check_interval",
}


def execute(
    client: redis.Redis,
    keys: IndexKeys,
    config: PipelineConfig,
    thresholds: Thresholds,
    job_id: str,
    *,
    heartbeat: float = 2.0,
    progress: Callable[[float], None] | None = None,
    wire_sources: Sequence[str] = DEFAULT_WIRE_SOURCES,
    run: Callable[..., tuple[dict[str, Any], list[Cluster]]] | None = None,
) -> JobStatus | None:
    """Claim ``job_id`` and run it here, with a heartbeat thread; record the outcome.

    ``run`` does the work over the index, called as ``service.jobs.run.cluster``
    is (the default); the Dask engine (service/jobs/dask_engine.py) passes its own."""
    store = JobStore(client, keys)
    if not store.claim(job_id):
        return store.get(job_id)
    stop = threading.Event()
    latest = {"progress": 0.0}

    def beat() -> None:
        while not stop.wait(heartbeat):
            try:
                store.beat(job_id, latest["progress"])
            except redis.RedisError as exc:  # the next beat retries
                log.warning("heartbeat of job %s failed: %s", job_id, exc)

    def on_progress(f: float) -> None:
        latest["progress"] = f
        if progress is not None:
            progress(f)

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        raw = client.hget(keys.job(job_id), "params")
        params = JobParams.from_json(raw) if raw else JobParams()
        summary, clusters = (run or cluster)(
            IndexSource(client, keys),
            config,
            thresholds,
            params,
            on_progress,
            wire_sources=wire_sources,
        )
        stop.set()
        thread.join()
        store.finish(job_id, summary, clusters)
    except Exception as exc:  # any failure is the job's outcome, reported to its reader
        stop.set()
        log.exception("clustering job %s failed", job_id)
        store.fail(job_id, f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
    return store.get(job_id)


def connection_spec(client: redis.Redis) -> dict[str, Any]:
    """What a child process needs to open the same Redis (picklable): a
    connection pool's class and arguments, or a Redis Cluster's nodes."""
    if isinstance(client, RedisCluster):
        nodes = client.get_nodes()
        pool = nodes[0].redis_connection.connection_pool
        kwargs = {
            k: v
            for k, v in pool.connection_kwargs.items()
            if (k in _CONN_KEYS or k.startswith("ssl")) and k not in ("host", "port", "db")
        }
        return {"cluster": [(n.host, n.port) for n in nodes], "kwargs": kwargs}
    pool = client.connection_pool
    kwargs = {
        k: v for k, v in pool.connection_kwargs.items() if k in _CONN_KEYS or k.startswith("ssl")
    }
    return {"connection_class": pool.connection_class, "kwargs": kwargs}


def connect(spec: dict[str, Any]) -> redis.Redis:
    """A client of what ``connection_spec`` described."""
    if "cluster" in spec:
        nodes = [ClusterNode(host, port) for host, port in spec["cluster"]]  # type: ignore[no-untyped-call]
        return cast(redis.Redis, RedisCluster(startup_nodes=nodes, **spec["kwargs"]))
    pool = redis.ConnectionPool(connection_class=spec["connection_class"], **spec["kwargs"])
    return redis.Redis(connection_pool=pool)


def _child(
    spec: dict[str, Any],
    index: str,
    config_json: str,
    thresholds: dict[str, Any],
    job_id: str,
    wire_sources: tuple[str, ...] = DEFAULT_WIRE_SOURCES,
) -> None:
    logging.basicConfig(level=logging.INFO)
    client = connect(spec)
    try:
        execute(
            client,
            load_keys(client, index),
            PipelineConfig.from_json(config_json),
            Thresholds(**thresholds),
            job_id,
            wire_sources=wire_sources,
        )
    finally:
        client.close()


@dataclass
class JobRunner:
    """Starts each job in its own spawned child process (see the module docstring)."""

    client: redis.Redis
    keys: IndexKeys
    config: PipelineConfig
    thresholds: Thresholds
    processes: dict[str, mp.process.BaseProcess] = field(default_factory=dict)
    #: Wire/agency names preferred as origins; None: ``COPYDESK_WIRE_SOURCES``
    #: (``Settings.wire_source_names``) as this process's environment has it.
    wire_sources: tuple[str, ...] | None = None

    def start(self, job_id: str) -> int:
        if self.wire_sources is None:
            from service.settings import get_settings

            self.wire_sources = get_settings().wire_source_names()
        ctx = mp.get_context("spawn")
        proc = ctx.Process(
            target=_child,
            args=(
                connection_spec(self.client),
                self.keys.index,
                self.config.to_json(),
                asdict(self.thresholds),
                job_id,
                self.wire_sources,
            ),
            name=f"copydesk-cluster-{job_id}",
            daemon=True,  # dies with the service; the job is then reaped as failed
        )
        proc.start()
        self.processes[job_id] = proc
        self.reap()
        return int(proc.pid or 0)

    def reap(self) -> None:
        """Join finished children (no zombies)."""
        for job_id, proc in list(self.processes.items()):
            if not proc.is_alive():
                proc.join(timeout=0)
                del self.processes[job_id]
