"""The index contract, against a real redis-server."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest
import redis

from service.model import ArticleIn, ConfigMismatch, EmptyText
from service.storage.index import Index
from service.storage.keys import DEFAULT_LSH_SHARDS, IndexKeys, Keys, lsh_shards_for
from shingling import PipelineConfig, Verdict, analyse

#: The index contract holds on one Redis, on three partitions, and on a Redis Cluster.
BACKENDS = ("single", "partitioned", "cluster")


def _kind(client: redis.Redis, keys: IndexKeys, kind: str) -> list[bytes]:
    """Every key of one kind (``lsh``, ``fp``, ...) in every partition of an index."""
    return [
        k for part in keys.parts for k in client.scan_iter(match=part.pattern(kind), count=1000)
    ]


def _all_band_members(client: redis.Redis, keys: Keys) -> list[int]:
    """Doc numbers (inside the partition ``keys``) its LSH buckets list."""
    members: list[int] = []
    for key in client.scan_iter(match=keys.pattern("lsh"), count=1000):
        for value in client.hvals(key):
            members.extend(np.frombuffer(value, dtype="<u4").tolist())
    return members


def _snapshot(client: redis.Redis) -> dict[bytes, object]:
    """Every key's contents (DUMP bytes depend on hash-table iteration order)."""
    out: dict[bytes, object] = {}
    for key in client.scan_iter():
        kind = client.type(key)
        if kind == b"hash":
            out[key] = client.hgetall(key)
        elif kind == b"zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        else:
            out[key] = client.get(key)
    return out


def test_put_get_roundtrip(index: Index) -> None:
    res = index.put(
        ArticleIn(
            text="Alpha beta gamma delta epsilon zeta.",
            id="a1",
            title="T",
            source="S",
            url="https://x.test/a",
        )
    )
    assert res.status == "created"
    got = index.get("a1")
    assert got is not None
    assert (got.text, got.title, got.source, got.url) == (
        "Alpha beta gamma delta epsilon zeta.",
        "T",
        "S",
        "https://x.test/a",
    )


def test_seeds_match_only_000_001(index: Index, seed_texts: dict[str, str]) -> None:
    for key, text in seed_texts.items():
        index.put(ArticleIn(text=text, id=key))
    for key in seed_texts:
        matches = index.matches_of(key)
        assert matches is not None
        strong = [(m.id, m.verdict) for m in matches]
        if key in ("000", "001"):
            other = "001" if key == "000" else "000"
            assert strong == [(other, Verdict.SYNDICATED)]
            m = matches[0]
            assert 0 < m.jaccard <= 1 and 0 < m.containment <= 1 and 0 < m.reverse_containment <= 1
        else:
            assert strong == []


def test_same_text_other_id_is_duplicate(index: Index, seed_texts: dict[str, str]) -> None:
    index.put(ArticleIn(text=seed_texts["003"], id="orig"))
    res = index.put(ArticleIn(text=seed_texts["003"], id="copy"))
    assert [(m.id, m.verdict, m.jaccard) for m in res.matches] == [("orig", Verdict.DUPLICATE, 1.0)]


def test_repost_is_idempotent(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    index.put(ArticleIn(text=seed_texts["000"], id="x"))
    before = _snapshot(redis_client)
    again = index.put(ArticleIn(text=seed_texts["000"], id="x"))
    after = _snapshot(redis_client)
    assert again.status == "unchanged"
    assert before == after


def test_replace_leaves_no_old_band_entries(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    index.put(ArticleIn(text=seed_texts["000"], id="x"))
    part = index.keys.for_id("x")
    old_n = int(redis_client.hget(part.ids, "x"))
    res = index.put(ArticleIn(text=seed_texts["003"], id="x"))
    assert res.status == "replaced"
    new_n = int(redis_client.hget(part.ids, "x"))
    members = _all_band_members(redis_client, part)
    assert old_n not in members
    assert members.count(new_n) == index.config.b
    assert not redis_client.exists(part.doc(old_n))
    assert index.get("x").text == seed_texts["003"]
    assert index.match_text(seed_texts["000"]) == []


def test_delete_removes_every_trace(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    index.put(ArticleIn(text=seed_texts["000"], id="keep"))
    index.put(ArticleIn(text=seed_texts["001"], id="gone"))
    part = index.keys.for_id("gone")
    n = int(redis_client.hget(part.ids, "gone"))
    assert index.delete("gone") is True
    assert index.delete("gone") is False
    assert index.get("gone") is None
    assert n not in _all_band_members(redis_client, part)
    assert redis_client.zscore(part.bytime, n) is None
    assert index.matches_of("keep") == []
    assert index.count() == 1


def test_match_text_stores_nothing(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    index.put(ArticleIn(text=seed_texts["000"], id="a"))
    keys_before = set(redis_client.scan_iter())
    matches = index.match_text(seed_texts["001"])
    assert [m.id for m in matches] == ["a"]
    assert set(redis_client.scan_iter()) == keys_before


def test_empty_text_is_refused_and_nothing_stored(index: Index, redis_client: redis.Redis) -> None:
    keys_before = set(redis_client.scan_iter())
    with pytest.raises(EmptyText):
        index.put(ArticleIn(text="ADVERTISEMENT\n\n  \n", id="e"))
    assert set(redis_client.scan_iter()) == keys_before


def test_other_config_is_refused(index: Index, redis_client: redis.Redis) -> None:
    index.put(ArticleIn(text="some words for the index to hold", id="a"))
    other = Index(redis_client, PipelineConfig(k=4))
    with pytest.raises(ConfigMismatch, match="COPYDESK_SHINGLE_K"):
        other.check_config()
    with pytest.raises(ConfigMismatch):
        other.get("a")


def test_an_index_from_an_older_text_pipeline_says_to_reingest(
    index: Index, redis_client: redis.Redis
) -> None:
    from dataclasses import replace

    index.put(ArticleIn(text="some words for the index to hold", id="a"))
    newer = replace(index.config, normaliser_version=index.config.normaliser_version + 1)
    with pytest.raises(ConfigMismatch, match="re-ingest the articles into a new index"):
        Index(redis_client, newer).check_config()


def test_another_index_name_is_separate(index: Index, redis_client: redis.Redis) -> None:
    index.put(ArticleIn(text="some words for the index to hold", id="a"))
    other = Index(redis_client, PipelineConfig(k=4), name="other")
    other.check_config()
    assert other.get("a") is None


def test_no_pickle_in_redis(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    index.put(ArticleIn(text=seed_texts["000"], id="a", title="t"))
    for key in redis_client.scan_iter():
        kind = redis_client.type(key)
        values = (
            [redis_client.get(key)]
            if kind == b"string"
            else redis_client.hvals(key)
            if kind == b"hash"
            else []
        )
        for v in values:
            assert not v.startswith(b"\x80"), f"pickle protocol header in {key!r}"


def test_scripts_place_band_entries_where_keys_says(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    # The Lua scripts build shard keys and fields themselves: they must agree
    # with service.storage.keys (which check, clustering and tests use).
    from service.storage.layout import band_field
    from shingling import analyse

    index.put(ArticleIn(text=seed_texts["004"], id="k"))
    part = index.keys.for_id("k")
    n = int(redis_client.hget(part.ids, "k"))
    bands = analyse(seed_texts["004"], index.config).bands
    for i, bucket in enumerate(bands.tolist()):
        raw = redis_client.hget(part.lsh(i, bucket), band_field(i, bucket))
        assert raw is not None and n in np.frombuffer(raw, dtype="<u4").tolist()


def test_scripts_place_fingerprint_entries_where_keys_says(
    index: Index, redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    # put.lua gets the fingerprints packed and finds each one's shard itself.
    from service.storage.layout import fp_field

    text = "\n\n".join(seed_texts.values())  # long: more than one chunk of the script's unpacking
    index.put(ArticleIn(text=text, id="k"))
    part = index.keys.for_id("k")
    n = int(redis_client.hget(part.ids, "k"))
    fps = analyse(text, index.config).fingerprints.tolist()
    assert len(fps) > 128
    for f in fps:
        raw = redis_client.hget(part.fp(f), fp_field(f))
        assert raw is not None and n in np.frombuffer(raw, dtype="<u4").tolist()


def test_a_new_index_is_sized_for_its_capacity_and_keeps_it(
    redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    config = PipelineConfig()
    small = Index(redis_client, config, name="sized", capacity=1000)
    for name, text in seed_texts.items():
        small.put(ArticleIn(text=text, id=name))
    # Each partition is sized for its share (one partition on a single Redis).
    planned = lsh_shards_for(-(-1000 // small.partitions), config.b)
    assert planned < DEFAULT_LSH_SHARDS
    assert redis_client.hget(small.keys.meta, "lsh_shards") == str(planned).encode()
    shards = {int(k.rsplit(b":", 1)[1]) for k in _kind(redis_client, small.keys, "lsh")}
    assert shards and max(shards) < planned
    # Reopened with another planned capacity, the index keeps its own layout.
    again = Index(redis_client, config, name="sized", capacity=1_000_000)
    first, second = sorted(seed_texts)[:2]
    assert second in [m.id for m in again.matches_of(first) or []]
    assert again.keys.root.lsh_shards == planned


def test_an_index_of_the_layout_before_passage_fingerprints_is_refused_untouched(
    redis_client: redis.Redis,
) -> None:
    """Layout 1 has no fingerprint lists: its articles could not be found by
    passage. It is refused with what to do, and nothing is claimed in it."""
    config = PipelineConfig()
    meta = Keys("legacy").meta
    redis_client.hset(meta, mapping={"fingerprint": config.fingerprint, "layout": "1"})
    index = Index(redis_client, config, name="legacy", capacity=1000)
    with pytest.raises(ConfigMismatch, match="layout 1.*Re-ingest"):
        index.check_config()
    untouched = {b"fingerprint": config.fingerprint.encode(), b"layout": b"1"}
    assert redis_client.hgetall(meta) == untouched


def test_a_query_verifies_the_candidates_sharing_the_most_bands(index: Index) -> None:
    """The script's top-``limit`` selection (grouped by shared bands, ties to
    the newest doc number) against the same rule applied to every candidate."""
    from bench.synth import generate

    articles = list(generate(120, seed=4))
    index.put_many(ArticleIn(text=a.text, id=a.id) for a in articles)
    for query in articles[::17]:
        bands = analyse(query.text, index.config).bands
        every = index.candidates(bands)
        assert every  # at least the article itself
        # Each partition chooses its own top ``limit``; the rows come partition by partition.
        by_part = sorted(every, key=lambda n: (index.keys.split(n)[0], -every[n], -n))
        for limit in (1, 3, 10, len(every) + 5):
            none = np.empty(0, np.uint32)
            rows = index.lookup(bands, none, exclude=set(), limit=limit, with_docs=False)
            got = [(r.number, r.shared_bands) for r in rows]
            want = [
                (n, every[n])
                for p in range(index.partitions)
                for n in [m for m in by_part if index.keys.split(m)[0] == p][:limit]
            ]
            assert got == want


def test_a_crowded_bucket_contributes_only_its_newest_entries(redis_client: redis.Redis) -> None:
    # One partition (also on a cluster): the newest of one bucket's entries.
    text = "the same wire paragraph that every outlet in the region carried word for word"
    # Bands alone (no passage candidates): max_bucket is a limit of band buckets.
    index = Index(
        redis_client, PipelineConfig(), max_bucket=3, max_passage_candidates=0, partitions=1
    )
    for i in range(6):  # the same text: all six share every bucket
        index.put(ArticleIn(text=text, id=f"copy-{i}"))
    bands = analyse(text, index.config).bands
    assert sorted(index.candidates(bands)) == [1, 2, 3, 4, 5, 6]  # the exhaustive lookup
    rows = index.lookup(bands, np.empty(0, np.uint32), exclude=set(), limit=0, with_docs=False)
    assert sorted(r.number for r in rows) == [4, 5, 6]
    assert sorted(m.id for m in index.match_text(text)) == ["copy-3", "copy-4", "copy-5"]
    whole = Index(redis_client, PipelineConfig(), max_bucket=0, partitions=1)
    assert len(whole.match_text(text)) == 6


def test_max_bucket_comes_from_settings(redis_client: redis.Redis, settings) -> None:  # type: ignore[no-untyped-def]
    tuned = settings.model_copy(update={"max_bucket": 7})
    assert Index.from_settings(redis_client, tuned).max_bucket == 7


def test_articles_are_timed_by_publication_else_ingest(
    index: Index, redis_client: redis.Redis
) -> None:
    """Retention orders by this score: naive times count as UTC."""
    from datetime import UTC, datetime, timedelta, timezone

    naive = datetime(2026, 3, 1, 12, 0)
    india = datetime(2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    index.put(ArticleIn(text="one two three four five six", id="naive", published_at=naive))
    index.put(ArticleIn(text="seven eight nine ten eleven", id="aware", published_at=india))
    before = datetime.now(UTC).timestamp()
    index.put(ArticleIn(text="twelve thirteen fourteen fifteen", id="undated"))
    after = datetime.now(UTC).timestamp()

    def score(article_id: str) -> float:
        part = index.keys.for_id(article_id)
        n = redis_client.hget(part.ids, article_id)
        return float(redis_client.zscore(part.bytime, n))

    noon_utc = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
    assert score("naive") == noon_utc
    assert score("aware") == noon_utc
    assert before <= score("undated") <= after
    assert (
        index.get("undated").ingested_at
        == datetime.fromtimestamp(score("undated"), UTC).isoformat()
    )


def _words(seed: int, n: int) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(f"w{int(i)}" for i in rng.integers(0, 5000, size=n))


def test_a_wire_passage_pasted_into_a_long_story_is_found_by_its_fingerprints(
    redis_client: redis.Redis,
) -> None:
    """Jaccard ~0.03: the bands alone (``COPYDESK_WINNOW=0``) offer such a pair
    about once in 17 (the candidate probability); the passage fingerprints
    always find it, and the match says where the passage is in both texts."""
    bands_only = Index(redis_client, PipelineConfig(winnow=0), name="bands")
    both = Index(redis_client, PipelineConfig(), name="both")
    wires = [_words(seed, 100) for seed in range(10)]
    for index in (bands_only, both):
        index.put_many(ArticleIn(text=w, id=f"wire-{i}") for i, w in enumerate(wires))
        index.put_many(ArticleIn(text=_words(100 + i, 400), id=f"other-{i}") for i in range(20))
    stories = [
        f"{_words(50 + i, 1500)}\n\n{w}\n\n{_words(70 + i, 1500)}" for i, w in enumerate(wires)
    ]
    assert sum(bool(bands_only.match_text(story)) for story in stories) <= 3
    assert _kind(redis_client, bands_only.keys, "fp") == []  # nothing listed at winnow 0
    assert _kind(redis_client, both.keys, "fp") != []
    for i, (wire, story) in enumerate(zip(wires, stories, strict=True)):
        (match,) = both.match_text(story)
        assert match.id == f"wire-{i}" and match.verdict is Verdict.SYNDICATED
        assert match.reverse_containment == 1.0 and match.jaccard < 0.05
        (passage,) = match.passages
        assert story[passage.a_start : passage.a_end] == wire
        assert (passage.b_start, passage.b_end) == (0, len(wire))
        assert match.match_share == 1.0 and 0.02 < match.query_share < 0.04
    # A stored story finds its wire copy, and the wire copy finds the story.
    both.put(ArticleIn(text=stories[0], id="story"))
    assert [m.id for m in both.matches_of("wire-0") or []] == ["story"]
    assert [m.id for m in both.matches_of("story") or []] == ["wire-0"]


def test_without_a_passage_index_seeds_still_match_and_check_is_clean(
    redis_client: redis.Redis, seed_texts: dict[str, str]
) -> None:
    """``COPYDESK_WINNOW=0``: articles keep no fingerprints, the bands alone
    find whole-story copies (000/001 stay syndicated), every article is still
    located, and ``copydesk check`` finds the index consistent."""
    from service.storage.check import check

    index = Index(redis_client, PipelineConfig(winnow=0), name="nofp")
    index.put_many(ArticleIn(text=t, id=i) for i, t in seed_texts.items())
    (a, b) = sorted(seed_texts)[:2]
    (match,) = index.matches_of(b) or []
    assert match.id == a and match.verdict is Verdict.SYNDICATED and match.passages
    assert _kind(redis_client, index.keys, "fp") == []
    report = check(redis_client, index.config, index="nofp")
    assert report.ok, report.problems


def test_max_located_sets_how_many_matches_carry_their_passages(
    redis_client: redis.Redis,
) -> None:
    wire = _words(5, 120)
    texts = {f"copy-{i}": f"{_words(200 + i, 60 + 10 * i)}\n\n{wire}" for i in range(4)}
    story = f"{_words(300, 80)}\n\n{wire}"
    located = {}
    for n in (0, 2, 10):
        index = Index(redis_client, PipelineConfig(), name=f"loc{n}", max_located=n)
        index.put_many(ArticleIn(text=t, id=i) for i, t in texts.items())
        matches = index.match_text(story)
        assert len(matches) == 4
        located[n] = [bool(m.passages) for m in matches]
        assert all((m.query_share > 0) == bool(m.passages) for m in matches)
    assert located == {0: [False] * 4, 2: [True, True, False, False], 10: [True] * 4}


def test_replace_and_delete_leave_no_fingerprint_entry(index: Index) -> None:
    index.put(ArticleIn(text=_words(1, 300), id="a"))
    index.put(ArticleIn(text=_words(2, 300), id="a"))  # replaced: the old lists go
    index.put(ArticleIn(text=_words(3, 300), id="b"))
    client, keys = index.client, index.keys
    listed = set()
    for p, part in enumerate(keys.parts):
        for key in client.scan_iter(part.pattern("fp")):
            for raw in client.hvals(key):
                listed.update(keys.number(p, n) for n in np.frombuffer(raw, dtype="<u4").tolist())
    numbers = {
        keys.number(keys.partition_of(i), int(client.hget(keys.for_id(i).ids, i))) for i in "ab"
    }
    assert listed == numbers
    assert index.delete("a") and index.delete("b")
    assert _kind(client, keys, "fp") == []


def test_a_fingerprint_list_stops_at_the_cap(redis_client: redis.Redis) -> None:
    from service.storage.keys import FINGERPRINT_CAP

    index = Index(redis_client, PipelineConfig(), name="cap", partitions=1)
    text = _words(9, 60)
    index.put_many(ArticleIn(text=text, id=f"copy-{i}") for i in range(FINGERPRINT_CAP + 6))
    lengths = {
        len(raw) // 4
        for key in _kind(redis_client, index.keys, "fp")
        for raw in redis_client.hvals(key)
    }
    assert lengths == {FINGERPRINT_CAP}


def test_a_stock_passage_offers_candidates_only_by_its_edges(redis_client: redis.Redis) -> None:
    """A paragraph more than FINGERPRINT_CAP articles carry fills its
    fingerprints' lists: a story quoting it is not offered the first carriers
    those lists kept. Only the paragraph's edge fingerprints, which winnowing
    picks by the words around it (so each carrier shares a few), offer any.
    The same paragraph in three articles is a lead: found by all of them."""
    from service.storage.keys import FINGERPRINT_CAP

    index = Index(redis_client, PipelineConfig(), name="stock", partitions=1)
    stock, rare = _words(9, 60), _words(10, 60)
    index.put_many(
        ArticleIn(text=f"{_words(200 + i, 300)} {stock} {_words(400 + i, 300)}", id=f"s-{i}")
        for i in range(FINGERPRINT_CAP + 6)
    )
    index.put_many(
        ArticleIn(text=f"{_words(600 + i, 300)} {rare} {_words(700 + i, 300)}", id=f"r-{i}")
        for i in range(3)
    )
    story = f"{_words(900, 1200)} {stock} {_words(901, 600)} {rare} {_words(902, 1200)}"
    query = analyse(story, index.config)
    rows = index.lookup(
        query.bands, query.fingerprints, exclude=set(), limit=50, with_docs=True, passage_limit=50
    )
    shared = {cast(bytes, r.id).decode(): r.shared_fingerprints for r in rows}
    assert all(shared[f"r-{i}"] >= 10 for i in range(3))
    stock_shared = [n for article_id, n in shared.items() if article_id.startswith("s-")]
    assert max(stock_shared, default=0) <= 2  # the paragraph itself has ~13
    assert {m.id for m in index.match_text(story)} >= {"r-0", "r-1", "r-2"}


def test_candidates_sharing_one_fingerprint_alone_are_capped(redis_client: redis.Redis) -> None:
    """Sixty articles each share one short phrase with a story (one shared
    fingerprint, or two): at most MAX_SINGLE_FINGERPRINT_CANDIDATES of the
    one-fingerprint ones are verified, and an article sharing a whole
    paragraph is still among the candidates."""
    from service.defaults import MAX_SINGLE_FINGERPRINT_CANDIDATES

    index = Index(redis_client, PipelineConfig(), name="singles", partitions=1)
    story_words = _words(77, 3000).split()
    phrases = [" ".join(story_words[40 * i : 40 * i + 12]) for i in range(60)]
    index.put_many(
        ArticleIn(text=f"{_words(1000 + i, 200)} {p} {_words(2000 + i, 200)}", id=f"p-{i}")
        for i, p in enumerate(phrases)
    )
    paragraph = " ".join(story_words[2500:2560])
    index.put(ArticleIn(text=f"{_words(3000, 200)} {paragraph} {_words(3001, 200)}", id="para"))
    query = analyse(" ".join(story_words), index.config)

    def shared(passage_limit: int) -> dict[str, int]:
        rows = index.lookup(
            query.bands, query.fingerprints, exclude=set(), limit=50, with_docs=True,
            passage_limit=passage_limit,
        )  # fmt: skip
        return {cast(bytes, r.id).decode(): r.shared_fingerprints for r in rows}

    every = shared(0)
    assert sum(n == 1 for n in every.values()) > MAX_SINGLE_FINGERPRINT_CANDIDATES
    chosen = shared(50)
    assert sum(n == 1 for n in chosen.values()) == MAX_SINGLE_FINGERPRINT_CANDIDATES
    assert chosen["para"] >= 5  # a 60-word paragraph: a strong candidate
    assert {k for k, n in every.items() if n >= 2} <= set(chosen)
