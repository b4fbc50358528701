"""Index.put_many: many atomic per-article scripts in one pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from bench.synth import generate
from service.model import ArticleIn, EmptyText
from service.storage.index import Index
from service.storage.layout import sig_offset

#: The index contract holds on one Redis, on three partitions, and on a Redis Cluster.
BACKENDS = ("single", "partitioned", "cluster")


def _articles(n: int, seed: int = 11) -> list[ArticleIn]:
    return [ArticleIn(text=a.text, id=a.id, source=a.source, published_at=a.published_at)
            for a in generate(n, seed=seed)]  # fmt: skip


def _fully_indexed(index: Index, article_id: str) -> bool:
    """id, doc, signature slot, every band entry and the time index agree."""
    p = index.keys.partition_of(article_id)
    part = index.keys.parts[p]
    cur = index.client.hget(part.ids, article_id)
    if cur is None:
        return False
    n = int(cur)
    sig = index._read_signature(index.keys.number(p, n))
    packed = np.array([n], dtype="<u4").tobytes()
    keys, fields = part.band_entries(_bands(index, sig))
    entries = [index.client.hget(k, f) or b"" for k, f in zip(keys, fields, strict=True)]
    in_bands = all(packed in [e[i : i + 4] for i in range(0, len(e), 4)] for e in entries)
    return (
        index.client.exists(part.doc(n)) == 1
        and sig.any()
        and in_bands
        and index.client.zscore(part.bytime, n) is not None
    )


def _bands(index: Index, sig: np.ndarray) -> np.ndarray:
    from shingling import band_keys

    return band_keys(sig, index.config)


def test_put_many_indexes_like_put(index: Index) -> None:
    batch = _articles(30)
    results = index.put_many(batch)
    assert [r.status for r in results] == ["created"] * 30
    assert index.count() == 30
    assert all(_fully_indexed(index, a.id) for a in batch)
    # Every copy finds its wire story, as after single puts.
    copies = [(a.id, a.wire) for a in generate(30, seed=11) if a.kind != "wire"]
    assert copies
    for copy_id, wire_id in copies:
        assert wire_id in [m.id for m in index.matches_of(copy_id) or []]


def test_put_many_again_is_unchanged_and_edits_replace(index: Index) -> None:
    batch = _articles(12)
    index.put_many(batch)
    edited = ArticleIn(text=batch[3].text + "\n\nA correction was appended.", id=batch[3].id)
    results = index.put_many([*batch[:3], edited])
    assert [r.status for r in results] == ["unchanged"] * 3 + ["replaced"]
    assert index.count() == 12
    assert _fully_indexed(index, batch[3].id)
    assert index.get(batch[3].id).text.endswith("appended.")


def test_put_many_reports_empty_texts_in_place(index: Index) -> None:
    batch = _articles(3)
    results = index.put_many([batch[0], ArticleIn(text="ADVERTISEMENT", id="ad"), batch[1]])
    assert isinstance(results[1], EmptyText)
    assert [r.status for r in (results[0], results[2])] == ["created", "created"]
    assert index.count() == 2


def test_repeated_id_within_a_batch_keeps_the_last_version(index: Index) -> None:
    first, second = _articles(2)
    again = ArticleIn(text=second.text, id=first.id)
    results = index.put_many([first, again])
    assert [r.status for r in results] == ["created", "replaced"]
    assert index.count() == 1
    assert index.get(first.id).text == second.text
    assert _fully_indexed(index, first.id)


def test_a_failed_pipeline_leaves_each_article_whole_or_absent(
    index: Index, redis_client: redis.Redis
) -> None:
    """Kill the connection mid-batch: every article is fully indexed or not at all."""
    batch = _articles(40)
    index.put_many(batch[:5])
    original = index._put_args
    calls = {"n": 0}
    broken: list[str] = []

    def put_args(part, doc, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 20:  # the 20th script of the batch never gets valid arguments
            broken.append(doc.id)
            keys, argv = original(part, doc, *args, **kwargs)
            return keys, argv[:3]  # put.lua errors on this one: a partial write would show
        return original(part, doc, *args, **kwargs)

    index._put_args = put_args  # type: ignore[method-assign]
    with pytest.raises(redis.ResponseError):
        index.put_many(batch[5:])
    index._put_args = original  # type: ignore[method-assign]
    for a in batch:
        present = redis_client.hexists(index.keys.for_id(a.id).ids, a.id)
        assert present == _fully_indexed(index, a.id), a.id
    # The broken script wrote nothing at all.
    (broken_id,) = broken
    assert not redis_client.hexists(index.keys.for_id(broken_id).ids, broken_id)
    assert sig_offset(0, index.config.num_perm) == 0
