"""The Dask batch job equals the in-process job (real Redis, a real LocalCluster)."""

from __future__ import annotations

import json
import logging
import operator
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from bench.synth import generate
from service.cli import app
from service.jobs.dask_engine import dask_client, redis_url_of, run_dask
from service.jobs.run import cluster
from service.jobs.sources import IndexSource
from service.jobs.store import JobParams
from service.model import ArticleIn
from service.storage.index import Index
from shingling.families import Cluster

ARTICLES = 400


@pytest.fixture(scope="module")
def dask() -> Iterator[Any]:
    """Two single-threaded worker processes on 127.0.0.1, closed after the module."""
    with dask_client(workers=2) as client:
        assert len(client.nthreads()) == 2
        yield client


@pytest.fixture
def corpus(index: Index) -> Index:
    """A few hundred synthetic articles in families (bench.synth), with sources and dates."""
    made = list(generate(ARTICLES, seed=3))
    index.put_many(
        ArticleIn(text=a.text, id=a.id, source=a.source, published_at=a.published_at) for a in made
    )
    return index


def _labels(clusters: list[Cluster], ids: list[str]) -> list[int]:
    """A label per article id: its cluster's number, or its own for a singleton."""
    of = {m: n for n, c in enumerate(clusters) for m in c.members}
    return [of.get(i, len(clusters) + k) for k, i in enumerate(ids)]


def _same(local: list[Cluster], dist: list[Cluster], ids: list[str]) -> None:
    assert local, "the corpus must have families to compare"
    assert {frozenset(c.members) for c in dist} == {frozenset(c.members) for c in local}
    assert adjusted_rand_score(_labels(local, ids), _labels(dist, ids)) == 1.0
    # Same origins, ids and reasons: the clusters are equal field by field.
    assert dist == local


@pytest.mark.parametrize(
    "params",
    [
        JobParams(),  # the default: exact (small index), passages on
        JobParams(verify="estimate"),
        JobParams(verify="exact", passages=False, slot_bands=8, max_bucket=4),
        JobParams(since=datetime(2024, 1, 1, 3, tzinfo=UTC).timestamp()),  # a later part
    ],
    ids=["default", "estimate", "slot-bands-small-buckets", "window"],
)
def test_dask_job_equals_the_in_process_job(corpus: Index, dask: Any, params: JobParams) -> None:
    ids = sorted(corpus.ids())
    assert len(ids) == ARTICLES
    if params.since is not None:  # the window must cut the corpus
        ids = [
            a.id for a in generate(ARTICLES, seed=3) if a.published_at.timestamp() >= params.since
        ]
        assert 0 < len(ids) < ARTICLES
        ids.sort()
    args = (IndexSource(corpus.client, corpus.keys), corpus.config, corpus.thresholds, params)
    local_summary, local = cluster(*args)
    summary, dist = run_dask(*args, dask=dask, partition_docs=1024, shuffle=3)
    _same(local, dist, ids)
    assert summary["articles"] == len(ids)
    for k in ("articles", "clusters", "verify", "candidate_pairs", "oversized_buckets"):
        assert summary[k] == local_summary[k], k
    assert summary["passage_pairs"] == local_summary["passage_pairs"]
    assert summary["stock_fingerprints"] == local_summary["stock_fingerprints"]
    if params.max_bucket == 4:
        assert summary["oversized_buckets"] > 0  # the sliding window was exercised
    if params.passages:
        assert summary["passage_pairs"] > 0
    assert summary["partitions"] == 1  # 400 docs: one block


def test_a_run_leaves_the_scheduler_without_errors(
    corpus: Index, dask: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A finished run lets go of its results without the scheduler logging an
    error (cancelling them did: ``assert ts.who_wants`` in ``stimulus_cancel``)."""
    caplog.set_level(logging.ERROR)
    args = (IndexSource(corpus.client, corpus.keys), corpus.config, corpus.thresholds)
    run_dask(*args, JobParams(), dask=dask, partition_docs=1024, shuffle=3)
    # The release went down the client's ordered stream: once a later task
    # answers, the scheduler has handled it.
    assert dask.submit(operator.add, 1, 1).result() == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_dask_job_on_a_redis_cluster_equals_the_in_process_job(corpus: Index, dask: Any) -> None:
    """Issue 19: the index on three masters (a partition each); the workers open
    the cluster from one node's URL and read every partition's blocks."""
    assert isinstance(corpus.client, RedisCluster) and corpus.partitions == 3
    owners = {corpus.client.get_node_from_key(p.meta).name for p in corpus.keys.parts}
    assert len(owners) == 3  # the articles are spread over all three masters
    ids = sorted(corpus.ids())
    assert len(ids) == ARTICLES
    args = (IndexSource(corpus.client, corpus.keys), corpus.config, corpus.thresholds, JobParams())
    local_summary, local = cluster(*args)
    summary, dist = run_dask(*args, dask=dask, partition_docs=1024, shuffle=3)
    _same(local, dist, ids)
    for k in ("articles", "clusters", "verify", "candidate_pairs", "passage_pairs"):
        assert summary[k] == local_summary[k], k
    assert summary["partitions"] >= 3  # a read task per partition at least


def test_partitions_and_buckets_do_not_change_the_result(
    index: Index, redis_client: redis.Redis, dask: Any
) -> None:
    """Doc numbers across several sig blocks (a gap of deleted articles), many
    read partitions and shuffle buckets."""
    made = list(generate(300, seed=5))
    index.put_many(ArticleIn(text=a.text, id=a.id, source=a.source) for a in made[:150])
    redis_client.hincrby(index.keys.meta, "next_doc", 2000)  # the next docs: two blocks on
    index.put_many(ArticleIn(text=a.text, id=a.id, source=a.source) for a in made[150:])
    for a in made[10:20]:
        index.delete(a.id)
    ids = sorted(index.ids())
    args = (IndexSource(index.client, index.keys), index.config, index.thresholds, JobParams())
    _, local = cluster(*args)
    summary, dist = run_dask(*args, dask=dask, partition_docs=1024, shuffle=7)
    assert summary["partitions"] >= 2
    _same(local, dist, ids)


def test_cli_engine_dask_on_a_running_scheduler(
    corpus: Index, dask: Any, redis_server: Any, tmp_path: Path
) -> None:
    out = tmp_path / "clusters.json"
    res = CliRunner().invoke(
        app,
        ["cluster", "--engine", "dask", "--scheduler", dask.scheduler_info()["address"],
         "--redis-url", redis_server.url, "-q", "-o", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())["clusters"]
    _, local = cluster(
        IndexSource(corpus.client, corpus.keys), corpus.config, corpus.thresholds, JobParams()
    )
    assert got == [
        {"cluster_id": c.cluster_id, "origin": c.origin, "members": c.members,
         "origin_reason": c.origin_reason} for c in local
    ]  # fmt: skip


def test_engine_dask_refuses_a_corpus(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["cluster", "--engine", "dask", "--corpus", str(tmp_path)])
    assert res.exit_code == 2
    assert "--engine dask clusters the index" in res.output


def test_redis_url_of_reopens_the_same_server(redis_client: redis.Redis) -> None:
    redis_client.set("probe", b"1")
    again = redis.Redis.from_url(redis_url_of(redis_client))
    try:
        assert again.get("probe") == b"1"
    finally:
        again.close()


def test_rewritten_links_are_refused_before_any_work() -> None:
    from service.jobs.dask_engine import run_dask
    from service.jobs.store import JobParams

    with pytest.raises(ValueError, match="in-process engine only"):
        run_dask(None, None, None, JobParams(rewritten=True), dask=None)  # type: ignore[arg-type]
