"""An index of several partitions (service/storage/keys.py IndexKeys): the same answers
as one partition, on three partitions of one Redis and on a Redis Cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import redis

from bench.synth import generate
from service.jobs.run import cluster
from service.jobs.sources import IndexSource
from service.jobs.store import JobParams
from service.model import ArticleIn
from service.storage.check import check
from service.storage.index import Index
from service.storage.listing import list_articles
from shingling import PipelineConfig, Thresholds, Verdict

BACKENDS = ("partitioned", "cluster")


def _seeded(index: Index, seed_texts: dict[str, str]) -> None:
    for n, (key, text) in enumerate(sorted(seed_texts.items())):
        when = datetime(2024, 5, 1, 12, n, tzinfo=UTC)
        index.put(ArticleIn(text=text, id=key, published_at=when))


def test_the_seed_pair_matches_as_on_one_partition(
    index: Index, seed_texts: dict[str, str]
) -> None:
    assert index.partitions == 3
    _seeded(index, seed_texts)
    assert {index.keys.partition_of(k) for k in seed_texts} != {0}  # spread, not all in one
    (match,) = [m for m in index.matches_of("001") or [] if m.id == "000"]
    assert match.verdict is Verdict.SYNDICATED
    assert round(match.jaccard, 3) == 0.225
    assert round(max(match.containment, match.reverse_containment), 3) == 0.424
    assert match.passages  # located across partitions too
    assert [m.id for m in index.matches_of("000") or []][:1] == ["001"]


def test_each_article_lives_in_one_partition_and_check_finds_it_whole(
    index: Index, redis_client: redis.Redis
) -> None:
    batch = [ArticleIn(text=a.text, id=a.id) for a in generate(60, seed=3)]
    index.put_many(batch)
    index.put(ArticleIn(text=batch[0].text + " A correction was added.", id=batch[0].id))
    assert index.delete(batch[1].id)
    for a in batch[2:]:
        p = index.keys.partition_of(a.id)
        holders = [
            q for q, part in enumerate(index.keys.parts) if redis_client.hexists(part.ids, a.id)
        ]
        assert holders == [p]
    report = check(redis_client, index.config, index=index.keys.index)
    assert report.ok, report.problems
    assert report.articles == 59 and report.partitions == 3

    # An id written into the wrong partition, and keys of no partition, are reported.
    wrong = next(q for q in range(3) if q != index.keys.partition_of("stray"))
    redis_client.hset(index.keys.parts[wrong].ids, "stray", 10**6)
    redis_client.set("{cd:" + index.keys.index + "/zz}:meta", "x")
    kinds = check(redis_client, index.config, index=index.keys.index).by_kind()
    assert kinds.get("misrouted_id") == 1 and kinds.get("unknown_partition") == 1


def test_listing_merges_the_partitions_newest_first(
    index: Index, redis_client: redis.Redis
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(25):
        text = " ".join(f"w{i}x{j}" for j in range(20))
        index.put(ArticleIn(text=text, id=f"a{i:02d}", published_at=start + timedelta(hours=i)))
    seen = []
    offset: int | None = 0
    while offset is not None:
        page = list_articles(redis_client, index.keys, "", offset=offset, limit=7)
        assert page.total == 25
        seen += [r.id for r in page.articles]
        offset = page.next_offset
    assert seen == [f"a{i:02d}" for i in reversed(range(25))]
    day = list_articles(redis_client, index.keys, "2024-01-01", limit=5)
    assert day.total == 24 and [r.id for r in day.articles] == ["a23", "a22", "a21", "a20", "a19"]
    assert [r.id for r in list_articles(redis_client, index.keys, "a07").articles] == ["a07"]


def test_the_clustering_job_gives_the_families_of_one_partition(
    index: Index, redis_client: redis.Redis
) -> None:
    batch = [
        ArticleIn(text=a.text, id=a.id, published_at=a.published_at) for a in generate(150, seed=8)
    ]
    one = Index(redis_client, PipelineConfig(), name="one", partitions=1)
    for idx in (index, one):
        idx.put_many(batch)
    families = []
    for idx in (index, one):
        summary, clusters = cluster(
            IndexSource(redis_client, idx.keys), idx.config, Thresholds(), JobParams(verify="exact")
        )
        assert summary["articles"] == 150
        families.append(sorted((c.origin, tuple(sorted(c.members))) for c in clusters))
    assert families[0] == families[1] and len(families[0]) > 5


def test_a_reopened_index_keeps_its_partitions(redis_client: redis.Redis, backend: str) -> None:
    config = PipelineConfig()
    first = Index(redis_client, config, name="kept", partitions=3)
    first.put(ArticleIn(text="one two three four five six seven", id="x"))
    again = Index(redis_client, config, name="kept", partitions=5)
    assert again.get("x") is not None and again.partitions == 3
    assert again.keys == first.keys
    if backend == "cluster":  # one partition per master: an even split
        owners = {redis_client.get_node_from_key(p.meta).name for p in first.keys.parts}  # type: ignore[attr-defined]
        assert len(owners) == 3


@pytest.mark.parametrize("count", [1, 4])
def test_global_numbers_keep_the_partition(count: int) -> None:
    from service.storage.keys import IndexKeys

    keys = IndexKeys.of("t", ["", *(str(i) for i in range(1, count))], 1024, 1024)
    for p in range(count):
        for n in (0, 1, 1023, 1024, 2**32 - 1):
            g = keys.number(p, n)
            assert keys.split(g) == (p, n)
            assert keys.doc(g) == keys.parts[p].doc(n)
            assert keys.sig_block(g) == keys.parts[p].sig_block(n)
            assert (g & 1023) == (n & 1023)  # the signature slot inside the block
    assert np.int64(keys.number(count - 1, 2**32 - 1)) > 0
