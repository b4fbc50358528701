"""The batch job on Dask against the in-process job, on one synthetic index.

    python -m bench.dask_scale --articles 20000 --seed 7 --workers 1 2 --repeat 3 \
        [--keep DIR] [--verify auto|exact|estimate]

Builds the index (bench.synth articles through ``service.bulk``, in a scratch
redis-server on 127.0.0.1; with ``--keep DIR`` its RDB snapshot is saved there
and reloaded by the next run of the same ``--articles``/``--seed``), then
times ``service.jobs.run.cluster`` and ``service.jobs.dask_engine.run_dask`` on
a LocalCluster of each ``--workers`` count (single-threaded worker processes;
the cluster's start-up is timed apart). Every Dask run must give exactly the
in-process clusters (same members, origins, reasons), or the bench fails.
Prints one JSON line: the machine (bench/machine.py, with the 1-minute load
average before and after), each engine's run seconds and their median, the
cores its runs kept busy (``job_cores``: this process, Redis and the workers)
and the cores the rest of the machine took meanwhile (``other_cores``), and
the ARI of the clusters against the generator's families.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import redis
from sklearn.metrics import adjusted_rand_score

from bench.machine import busy_cpu_seconds, describe, redis_cpu_seconds
from bench.redis_server import redis_server
from bench.synth import generate
from service.bulk import ingest_batches
from service.jobs.dask_engine import dask_client, redis_url_of, run_dask
from service.jobs.run import cluster
from service.jobs.sources import IndexSource
from service.jobs.store import JobParams
from service.model import ArticleIn
from service.storage.index import Index
from shingling import PipelineConfig, Thresholds
from shingling.families import Cluster

_BATCH = 500
SNAPSHOT = "dask-scale.rdb"


def _ingest(client: redis.Redis, articles: int, seed: int, workers: int) -> float:
    index = Index(client, PipelineConfig(), Thresholds())
    batch: list[ArticleIn] = []

    def batches() -> Any:
        for a in generate(articles, seed=seed):
            batch.append(
                ArticleIn(text=a.text, id=a.id, source=a.source, published_at=a.published_at)
            )
            if len(batch) == _BATCH:
                yield list(batch)
                batch.clear()
        if batch:
            yield list(batch)

    t = time.perf_counter()
    for _ in ingest_batches(index, batches(), workers=workers):
        pass
    return time.perf_counter() - t


def _ari(clusters: list[Cluster], truth: dict[str, int]) -> float:
    ids = sorted(truth)
    of = {m: n for n, c in enumerate(clusters) for m in c.members}
    pred = [of.get(i, len(clusters) + k) for k, i in enumerate(ids)]
    return float(adjusted_rand_score([truth[i] for i in ids], pred))


def _timed(run: Any) -> tuple[float, list[Cluster], dict[str, Any]]:
    t = time.perf_counter()
    summary, clusters = run()
    return time.perf_counter() - t, clusters, summary


class _Cores:
    """Cores kept busy over a stretch: by the job (this process, Redis, the Dask
    workers) and by everything else on the machine (other processes, steal)."""

    def __init__(self, client: redis.Redis, dask: Any = None) -> None:
        self.client, self.dask = client, dask
        self.start = self._now()

    def _now(self) -> tuple[float, float, float]:
        workers = sum(self.dask.run(time.process_time).values()) if self.dask else 0.0
        own = time.process_time() + redis_cpu_seconds(self.client)[0] + workers
        busy = busy_cpu_seconds()
        return (busy[0] if busy else float("nan")), own, time.monotonic()

    def report(self) -> dict[str, float]:
        (b0, o0, w0), (b1, o1, w1) = self.start, self._now()
        wall = w1 - w0
        return {
            "job_cores": round((o1 - o0) / wall, 2),
            "other_cores": round(max(0.0, (b1 - b0) - (o1 - o0)) / wall, 2),
        }


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dask_scale", description=__doc__)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verify", choices=("auto", "exact", "estimate"), default="auto")
    parser.add_argument("--ingest-workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="save/reload the index snapshot here")
    return parser.parse_args(argv)


def _fill(client: redis.Redis, args: argparse.Namespace, where: Path | None) -> float:
    """Ingest the synthetic index; with ``where``, save its RDB snapshot there.
    Returns the ingest seconds."""
    seconds = _ingest(client, args.articles, args.seed, args.ingest_workers)
    if where is not None:
        client.save()
        where.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(str(client.config_get("dir")["dir"])) / "dump.rdb", where / SNAPSHOT)
    return seconds


def _runs(runs: list[tuple[float, list[Cluster], dict[str, Any]]]) -> dict[str, Any]:
    return {
        "runs_s": [round(r[0], 2) for r in runs],
        "median_s": round(statistics.median(r[0] for r in runs), 2),
        "timings_s": runs[-1][2]["timings"],
    }


def _on_dask(
    job: tuple[Any, ...], n: int, repeat: int, url: str
) -> tuple[dict[str, Any], list[list[Cluster]]]:
    """``repeat`` Dask runs on a LocalCluster of ``n`` workers: (figures, clusters of each)."""
    t = time.perf_counter()
    with dask_client(workers=n) as dask:
        started = time.perf_counter() - t
        cores = _Cores(job[0].client, dask)
        runs = [
            _timed(lambda dask=dask: run_dask(*job, dask=dask, redis_url=url))
            for _ in range(repeat)
        ]
        used = cores.report()
    return {**used, "start_s": round(started, 2), **_runs(runs)}, [r[1] for r in runs]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    tag = f"{args.articles}-{args.seed}"
    kept = args.keep / tag if args.keep else None
    snapshot = kept / SNAPSHOT if kept and (kept / SNAPSHOT).exists() else None
    truth = {a.id: a.family for a in generate(args.articles, seed=args.seed)}
    config, thresholds = PipelineConfig(), Thresholds()
    out: dict[str, Any] = {"articles": args.articles, "seed": args.seed, "verify": args.verify}
    with redis_server(timeout=600, restore=snapshot) as client:
        out["machine"] = describe(client)
        if snapshot is None:
            out["ingest_s"] = round(_fill(client, args, kept), 1)
        index = Index(client, config, thresholds)
        index.check_config()
        job = (IndexSource(client, index.keys), config, thresholds, JobParams(verify=args.verify))
        cores = _Cores(client)
        runs = [_timed(lambda: cluster(*job)) for _ in range(args.repeat)]
        reference = runs[0][1]
        out["in_process"] = {
            **cores.report(),
            **_runs(runs),
            "clusters": len(reference),
            "verify": runs[-1][2]["verify"],
            "ari_vs_truth": round(_ari(reference, truth), 4),
        }
        for n in args.workers:
            figures, found = _on_dask(job, n, args.repeat, redis_url_of(client))
            if any(clusters != reference for clusters in found):
                print(f"dask with {n} workers differs from the in-process job", file=sys.stderr)
                return 1
            out[f"dask_{n}_workers"] = {**figures, "same_as_in_process": True}
        out["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
