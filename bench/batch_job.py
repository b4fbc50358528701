"""Scale benchmark of batch clustering: time, peak RSS and ARI at 100k and 1M.

Two steps, because the first is slow and the second is what we measure::

    # 1. signatures of a synthetic corpus (bench.synth), in bulk, resumable
    #    output: DIR/sigs.npy (n x num_perm uint32), ids.npy, published.npy, family.npy
    python -m bench.batch_job signatures --articles 1000000 --seed 7 \
        --material /path/to/mrpc_train.tsv --out DIR --workers 2

    # 2. cluster the first N rows (as the job does once signatures are loaded)
    python -m bench.batch_job cluster --data DIR --limit 100000 [--verify estimate]

    # 3. the whole job through Redis: the signatures are written straight into
    #    a scratch redis-server (bench.redis_server) in the index layout (ids
    #    hash, sig blocks, doc hashes with id and published_at; no texts, no LSH
    #    shards: the job does not read those), then service.jobs.run.cluster
    #    reads them back
    python -m bench.batch_job redis --data DIR --limit 100000

    # 4. API responsiveness while a clustering job runs in a worker process
    #    versus in a thread of the API process
    python -m bench.batch_job latency --data DIR --limit 100000

Step 2 prints one JSON line: articles, seconds per stage, peak RSS (this
process, ``resource.getrusage``), clusters, ARI and pairwise precision/recall
against the generator's families (singletons included, as ``truth.json``).
The first N rows of a longer run are exactly a corpus of N articles except
that the last family may be cut short, and truth here is the rows' own family
labels, so the prefix is scored exactly.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from service.jobs.run import cluster as run_cluster
from service.jobs.sources import Corpus, IndexSource
from service.jobs.store import JobParams
from service.storage import layout
from service.storage.keys import IndexKeys
from shingling import PipelineConfig, Thresholds
from shingling.shingles import shingle
from shingling.signature import SIG_DTYPE, signature

if TYPE_CHECKING:
    import redis

    from bench.synth import Article
    from shingling.families import Cluster

_CHUNK = 1000


def _sigs(texts: list[str]) -> np.ndarray:
    config = PipelineConfig()
    return np.stack([signature(shingle(t, config).hashes, config) for t in texts])


def _chunks(articles: int, seed: int, material: Path, start: int) -> Iterator[list[Article]]:
    from bench.synth import generate

    batch: list[Article] = []
    for i, article in enumerate(generate(articles, seed=seed, material=material)):
        if i < start:
            continue
        batch.append(article)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def signatures(args: argparse.Namespace) -> int:
    """Signatures of ``--articles`` generated articles, written as they come.

    Resumable: ``progress.json`` records how many rows are done, and a rerun
    with the same arguments continues from there (generation is replayed, but
    it is ~0.4 ms an article against ~5 ms to shingle and sign one).
    """
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    n, num_perm = args.articles, PipelineConfig().num_perm
    prog_file = out / "progress.json"
    done = json.loads(prog_file.read_text())["done"] if prog_file.exists() else 0
    mode = "r+" if done else "w+"
    open_mm = np.lib.format.open_memmap
    sigs = open_mm(out / "sigs.npy", mode=mode, dtype=SIG_DTYPE, shape=(n, num_perm))
    ids = open_mm(out / "ids.npy", mode=mode, dtype="U32", shape=(n,))
    published = open_mm(out / "published.npy", mode=mode, dtype=np.float64, shape=(n,))
    family = open_mm(out / "family.npy", mode=mode, dtype=np.int64, shape=(n,))
    start = time.perf_counter()
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers) as pool:
        batches = _chunks(n, args.seed, args.material, done)
        # Texts go to the workers in order; imap keeps the order of the results.
        meta: list[list[Article]] = []

        def texts() -> Iterator[list[str]]:
            for batch in batches:
                meta.append(batch)
                yield [a.text for a in batch]

        for block in pool.imap(_sigs, texts(), chunksize=1):
            batch = meta.pop(0)
            rows = slice(done, done + len(batch))
            sigs[rows] = block
            ids[rows] = [a.id for a in batch]
            published[rows] = [a.published_at.timestamp() for a in batch]
            family[rows] = [a.family for a in batch]
            done += len(batch)
            if done % (_CHUNK * 20) == 0 or done == n:
                for mm in (sigs, ids, published, family):
                    mm.flush()
                rate = (time.perf_counter() - start) / max(done, 1)
                prog_file.write_text(json.dumps({"done": done, "of": n, "s_per_article": rate}))
                print(f"{done}/{n} {time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True)
    print(json.dumps({"done": done, "seconds": round(time.perf_counter() - start, 1)}))
    return 0


def _load(data: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    done = json.loads((data / "progress.json").read_text())["done"]
    n = min(done, limit or done)
    sigs = np.load(data / "sigs.npy", mmap_mode="r")[:n]
    return (
        np.ascontiguousarray(sigs),
        np.load(data / "ids.npy", mmap_mode="r")[:n].astype(str),
        np.array(np.load(data / "published.npy", mmap_mode="r")[:n]),
        np.array(np.load(data / "family.npy", mmap_mode="r")[:n]),
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cluster(args: argparse.Namespace) -> int:
    from service.evaluation.families import score_labels

    t0 = time.perf_counter()
    sigs, ids, published, family = _load(args.data, args.limit)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    summary, clusters = _cluster_rows(sigs, ids, published)
    t_cluster = time.perf_counter() - t1
    if not (ids[1:] > ids[:-1]).all():
        raise RuntimeError("ids must be sorted and unique (bench.synth numbers them in order)")
    pred = np.arange(len(ids))  # singletons get their own label
    for c, cl in enumerate(clusters):
        pred[np.searchsorted(ids, cl.members)] = len(ids) + c
    quality = score_labels(pred, family)
    print(
        json.dumps(
            {
                "articles": len(ids),
                "load_s": round(t_load, 1),
                "cluster_s": round(t_cluster, 1),
                "stages_s": {k: round(v, 1) for k, v in summary["timings"].items()},
                "peak_rss_mb": round(_peak_rss_mb()),
                "clusters": len(clusters),
                "candidate_pairs": summary["candidate_pairs"],
                "verified_pairs": summary["verified_pairs"],
                "oversized_buckets": summary["oversized_buckets"],
                **{k: round(v, 4) for k, v in quality.items()},
            }
        )
    )
    return 0


def _cluster_rows(
    sigs: np.ndarray, ids: np.ndarray, published: np.ndarray
) -> tuple[dict[str, Any], list[Cluster]]:
    """The one clustering run over signed rows in memory, verified from signatures."""
    corpus = Corpus(ids.tolist(), sigs, published)
    return run_cluster(corpus, PipelineConfig(), Thresholds(), JobParams(verify="estimate"))


def through_redis(args: argparse.Namespace) -> int:
    from bench.redis_server import redis_server

    sigs, ids, published, _ = _load(args.data, args.limit)
    keys = IndexKeys.single("bench")
    with redis_server(timeout=60) as client:
        t0 = time.perf_counter()
        _write_index(client, keys, sigs, ids, published)
        t_write = time.perf_counter() - t0
        used = int(client.info("memory")["used_memory"])
        t1 = time.perf_counter()
        summary, clusters = run_cluster(
            IndexSource(client, keys), PipelineConfig(), Thresholds(), JobParams(verify="estimate")
        )
        t_job = time.perf_counter() - t1
    print(
        json.dumps(
            {
                "articles": len(ids),
                "write_s": round(t_write, 1),
                "redis_used_mb": round(used / 2**20),
                "job_s": round(t_job, 1),
                "timings_s": summary["timings"],
                "clusters": len(clusters),
                "peak_rss_mb": round(_peak_rss_mb()),
            }
        )
    )
    return 0


def _write_index(
    client: redis.Redis, keys: IndexKeys, sigs: np.ndarray, ids: np.ndarray, published: np.ndarray
) -> None:
    """Signed rows straight into the index layout (``service.storage.layout``),
    a ``sig`` block at a time: the ids hash, the blocks, and doc records with
    id and published_at. No texts, no LSH shards: the estimate job reads neither."""
    for start in range(0, len(ids), layout.SIG_BLOCK_SLOTS):
        stop = min(start + layout.SIG_BLOCK_SLOTS, len(ids))
        pipe = client.pipeline(transaction=False)
        pipe.set(keys.sig_block(start), layout.encode_sig_block(sigs[start:stop]))
        pipe.hset(keys.root.ids, mapping={ids[n]: n for n in range(start, stop)})
        for n in range(start, stop):
            when = layout.encode_time(datetime.fromtimestamp(published[n], UTC))
            pipe.hset(keys.doc(n), mapping={layout.ID: ids[n], layout.PUBLISHED_AT: when})
        pipe.execute()


def latency(args: argparse.Namespace) -> int:
    """p50/p99 of a trivial FastAPI route while clustering runs beside it.

    ``thread``: the clustering runs in a thread of the API process (the GIL
    is shared with the event loop's worker threads); ``process``: it runs in a
    spawned child, as ``service.jobs.batch`` does; ``idle``: nothing runs.
    """
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    out = {}
    with TestClient(app) as client:
        for mode in ("idle", "thread", "process"):
            worker: threading.Thread | mp.process.BaseProcess | None = None
            if mode == "thread":
                worker = threading.Thread(target=_cluster_saved, args=(args.data, args.limit))
            elif mode == "process":
                worker = mp.get_context("spawn").Process(
                    target=_cluster_saved, args=(args.data, args.limit)
                )
            if worker is not None:
                worker.start()
                time.sleep(1.0)  # let the worker get past start-up into the CPU-bound part
            samples = []
            for _ in range(args.requests):
                t = time.perf_counter()
                client.get("/healthz")
                samples.append((time.perf_counter() - t) * 1000)
            if worker is not None:
                worker.join()
            out[mode] = {
                "p50_ms": round(float(np.percentile(samples, 50)), 2),
                "p99_ms": round(float(np.percentile(samples, 99)), 2),
                "max_ms": round(max(samples), 2),
            }
    print(json.dumps({"articles": args.limit, "requests": args.requests, **out}))
    return 0


def _cluster_saved(data: Path, limit: int | None) -> None:
    sigs, ids, published, _ = _load(data, limit)
    _cluster_rows(sigs, ids, published)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_job", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("signatures", help="sign a synthetic corpus in bulk (resumable)")
    p.add_argument("--articles", type=int, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--material", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=signatures)
    c = sub.add_parser("cluster", help="cluster the first --limit signed rows")
    c.add_argument("--data", type=Path, required=True)
    c.add_argument("--limit", type=int, default=None)
    c.set_defaults(func=cluster)
    red = sub.add_parser("redis", help="the job through a scratch Redis")
    red.add_argument("--data", type=Path, required=True)
    red.add_argument("--limit", type=int, default=None)
    red.set_defaults(func=through_redis)
    lat = sub.add_parser("latency", help="API latency while clustering runs")
    lat.add_argument("--data", type=Path, required=True)
    lat.add_argument("--limit", type=int, default=100_000)
    lat.add_argument("--requests", type=int, default=300)
    lat.set_defaults(func=latency)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
