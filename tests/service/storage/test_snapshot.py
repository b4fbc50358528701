"""service.storage.snapshot: the batch job's bulk reads of an index (real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from service.model import ArticleIn
from service.storage.index import Index
from service.storage.snapshot import (
    load_fingerprints,
    load_signatures,
    read_ids,
    read_published,
    read_signatures,
    stored_shingles,
)
from shingling import analyse
from shingling.shingles import narrow

BACKENDS = ("single", "partitioned")


def _seed(index: Index, seed_texts: dict[str, str], dated: bool = False) -> None:
    for n, (key, text) in enumerate(sorted(seed_texts.items())):
        when = datetime(2024, 5, 1, 12, n, tzinfo=UTC) if dated else None
        index.put(ArticleIn(text=text, id=key, published_at=when, source=f"outlet {n}"))


def _docs(index: Index) -> dict[str, int]:
    return {v: k for k, v in read_ids(index.client, index.keys).items()}


def test_load_signatures_reads_every_live_article(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts)
    index.delete("003")  # its slot is zeroed and its id gone: it must not come back
    snap = load_signatures(index.client, index.keys, index.config)
    assert sorted(snap.ids) == ["000", "001", "002", "004"]
    for article_id, sig in zip(snap.ids, snap.sigs, strict=True):
        expected = analyse(seed_texts[article_id], index.config).signature
        assert np.array_equal(sig, expected)


@pytest.mark.backends("single")  # sets the doc numbering of one partition
def test_load_signatures_spans_blocks_in_few_round_trips(
    index: Index, seed_texts, backend: str
) -> None:  # type: ignore[no-untyped-def]
    # Doc numbers in two signature blocks (1024 slots each).
    index.client.hset(index.keys.meta, "next_doc", 1020)
    _seed(index, seed_texts)
    snap = load_signatures(index.client, index.keys, index.config)
    assert len(snap.ids) == 5 and len({int(d) >> 10 for d in snap.docs}) == 2


def test_a_time_window_limits_the_snapshot(index: Index, seed_texts: dict[str, str]) -> None:
    _seed(index, seed_texts, dated=True)  # 000 at 12:00 ... 004 at 12:04
    since = datetime(2024, 5, 1, 12, 1, tzinfo=UTC).timestamp()
    until = datetime(2024, 5, 1, 12, 3, tzinfo=UTC).timestamp()
    snap = load_signatures(index.client, index.keys, index.config, since=since, until=until)
    assert sorted(snap.ids) == ["001", "002", "003"]
    assert sorted(read_ids(index.client, index.keys, until=until).values()) == [
        "000", "001", "002", "003"
    ]  # fmt: skip


def test_read_signatures_gives_zeros_for_an_empty_slot(
    index: Index, seed_texts: dict[str, str]
) -> None:
    _seed(index, seed_texts)
    docs = _docs(index)
    wanted = np.array(sorted([docs["000"], docs["002"]]), dtype=np.int64)
    sigs = read_signatures(index.client, index.keys, index.config.num_perm, wanted)
    assert sigs.shape == (2, index.config.num_perm) and sigs.any(axis=1).all()
    index.delete("000")
    after = read_signatures(index.client, index.keys, index.config.num_perm, wanted)
    gone = list(wanted).index(docs["000"])
    assert not after[gone].any() and np.array_equal(after[1 - gone], sigs[1 - gone])


def test_dates_and_sources_are_read_per_doc(index: Index, seed_texts: dict[str, str]) -> None:
    _seed(index, seed_texts, dated=True)
    index.put(ArticleIn(text="an undated story of several words here", id="x"))
    docs = _docs(index)
    rows = np.array([docs["002"], docs["x"]], dtype=np.int64)
    epochs, sources = read_published(index.client, index.keys, rows)
    assert epochs[0] == datetime(2024, 5, 1, 12, 2, tzinfo=UTC).timestamp()
    assert np.isnan(epochs[1])
    assert sources == ["outlet 2", None]


def test_stored_shingles_are_the_online_sets_and_text_is_the_fallback(
    index: Index, seed_texts: dict[str, str]
) -> None:
    _seed(index, seed_texts)
    docs = _docs(index)
    rows = np.array([docs["000"], docs["001"]], dtype=np.int64)
    index.client.hdel(index.keys.doc(int(rows[1])), "sh", "nq")  # only its text is left
    got = stored_shingles(index.client, index.keys, index.config, rows)([0, 1])
    for article_id, sh in zip(("000", "001"), got, strict=True):
        expected = narrow(analyse(seed_texts[article_id], index.config).shingles)
        assert np.array_equal(np.sort(sh.hashes), np.sort(expected.hashes))
    index.delete("000")
    (empty,) = stored_shingles(index.client, index.keys, index.config, rows)([0])
    assert len(empty.hashes) == 0  # deleted since: links to nothing


def test_fingerprints_are_each_docs_own(index: Index, seed_texts: dict[str, str]) -> None:
    _seed(index, seed_texts)
    docs = _docs(index)
    rows = np.array([docs[k] for k in sorted(seed_texts)], dtype=np.int64)
    got = load_fingerprints(index.client, index.keys, rows)
    for article_id, fps in zip(sorted(seed_texts), got, strict=True):
        expected = analyse(seed_texts[article_id], index.config).fingerprints
        assert len(fps) > 0 and np.array_equal(np.sort(fps), np.sort(expected))
