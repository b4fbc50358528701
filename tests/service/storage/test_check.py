"""service.storage.check: the counts of a whole index, and the kinds of damage
tests/service/reliability/test_atomic.py does not cause."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import redis

from service.model import ArticleIn
from service.storage.check import check
from service.storage.index import Index
from service.storage.keys import FINGERPRINT_CAP, Keys
from service.storage.layout import band_field, fp_field, pack_u32, pack_u32s

KEYS = Keys("default")
TEXTS = [
    "The council approved the new budget on Tuesday after a long and heated debate. "
    "Officials said the plan would fund schools, repair roads and open two new clinics.",
    "Scientists have found a new species of frog in the rainforest of the northern hills. "
    "The tiny animal is about the size of a thumbnail and sings at night near streams.",
]


def _n(c: redis.Redis, article_id: str) -> int:
    return int(c.hget(KEYS.ids, article_id))  # type: ignore[arg-type]


def test_a_whole_index_is_ok_and_counted(index: Index, redis_client: redis.Redis) -> None:
    for i, text in enumerate(TEXTS):
        index.put(ArticleIn(text, id=f"a{i}"))
    report = check(redis_client, index.config)
    assert report.ok, report.problems
    assert (report.articles, report.docs, report.signature_slots, report.bytime) == (2, 2, 2, 2)
    assert report.lsh_entries == 2 * index.config.b
    assert report.fp_entries > 0 and report.partitions == 1


CORRUPTIONS: list[tuple[str, Callable[[redis.Redis], object]]] = [
    ("bad_id_entry", lambda c: c.hset(KEYS.ids, "x", "not-a-number")),
    ("shared_doc", lambda c: c.hset(KEYS.ids, "copy", _n(c, "a0"))),
    ("incomplete_doc", lambda c: c.hdel(KEYS.doc(_n(c, "a0")), "sha")),
    ("doc_beyond_counter", lambda c: c.hset(KEYS.meta, "next_doc", 0)),
    ("bad_lsh_entry", lambda c: c.hset(KEYS.lsh(1, 2), b"abc", b"12345")),
    ("misplaced_lsh_entry", lambda c: c.hset(KEYS.lsh(1, 2), band_field(1, 3), pack_u32(1))),
    ("bad_fp_entry", lambda c: c.hset(KEYS.fp(7), fp_field(7), b"123")),
    ("misplaced_fp_entry", lambda c: c.hset(KEYS.fp(7), fp_field(8), pack_u32(_n(c, "a0")))),
    (
        "oversized_fp_list",
        lambda c: c.hset(KEYS.fp(9), fp_field(9), pack_u32s(np.arange(FINGERPRINT_CAP + 1))),
    ),
    ("duplicate_fp_entry", lambda c: c.hset(KEYS.fp(9), fp_field(9), pack_u32s([1, 1]))),
    ("bad_bytime_entry", lambda c: c.zadd(KEYS.bytime, {"x": 1.0})),
    ("unknown_partition", lambda c: c.set("{cd:default/zz}:meta", "1")),
]


@pytest.mark.parametrize(("kind", "corrupt"), CORRUPTIONS, ids=[k for k, _ in CORRUPTIONS])
def test_check_reports_the_damage(
    index: Index, redis_client: redis.Redis, kind: str, corrupt: Callable[[redis.Redis], object]
) -> None:
    for i, text in enumerate(TEXTS):
        index.put(ArticleIn(text, id=f"a{i}"))
    corrupt(redis_client)
    report = check(redis_client, index.config)
    assert kind in report.by_kind(), report.problems
    assert not report.ok


def test_a_duplicate_band_entry_is_found(index: Index, redis_client: redis.Redis) -> None:
    index.put(ArticleIn(TEXTS[0], id="a0"))
    n = _n(redis_client, "a0")
    shard = next(iter(redis_client.scan_iter(match=KEYS.pattern("lsh"))))
    field, packed = next(iter(redis_client.hgetall(shard).items()))
    assert packed == pack_u32(n)
    redis_client.hset(shard, field, packed + packed)
    assert "duplicate_lsh_entry" in check(redis_client, index.config).by_kind()


def test_an_id_in_the_wrong_partition_is_found(redis_client: redis.Redis, settings) -> None:  # type: ignore[no-untyped-def]
    index = Index(redis_client, settings.pipeline(), partitions=3)
    index.check_config()
    index.put(ArticleIn(TEXTS[0], id="a0"))
    p = index.keys.partition_of("a0")
    other = index.keys.parts[(p + 1) % 3]
    redis_client.hset(other.ids, "a0", 1)
    report = check(redis_client, index.config)
    assert report.partitions == 3
    assert "misrouted_id" in report.by_kind()
    assert any(other.prefix in f.detail for f in report.problems)
