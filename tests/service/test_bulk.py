"""service.bulk: batches written while the next is analysed, inline or in processes."""

from __future__ import annotations

import pytest

from service.bulk import ingest_batches
from service.model import ArticleIn, EmptyText
from service.storage.check import check
from service.storage.index import Index
from tests.service.storage.test_index_batch import _articles, _fully_indexed


def _batches(items: list[ArticleIn], size: int) -> list[list[ArticleIn]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _statuses(results: list[list[object]]) -> list[str]:
    return [getattr(r, "status", "empty") for batch in results for r in batch]


@pytest.mark.parametrize("workers", [1, 2])
def test_overlapped_ingest_stores_what_put_many_stores(index: Index, workers: int) -> None:
    articles = _articles(45, seed=5)
    results = list(ingest_batches(index, _batches(articles, 10), workers=workers))
    # One result list per batch, in batch order, each in input order.
    assert [len(r) for r in results] == [10, 10, 10, 10, 5]
    assert [r.id for batch in results for r in batch] == [a.id for a in articles]
    assert _statuses(results) == ["created"] * 45
    assert all(_fully_indexed(index, a.id) for a in articles)
    report = check(index.client, index.config, index=index.keys.index)
    assert report.ok, report.problems
    assert report.articles == 45


def test_an_id_rewritten_by_the_next_batch_ends_with_the_last_text(index: Index) -> None:
    """Batch 2 is prepared while batch 1 is still being written: it may read
    the id before batch 1's write lands, and must still end fully replaced."""
    first = _articles(8, seed=6)
    edited = ArticleIn(text=first[2].text + "\n\nA later correction.", id=first[2].id)
    second = [edited, *_articles(8, seed=7)[:3], first[5]]  # first[5] again: unchanged
    results = list(ingest_batches(index, [first, second]))
    assert _statuses(results)[8:] == ["replaced", "created", "created", "created", "unchanged"]
    assert index.get(first[2].id).text.endswith("A later correction.")
    assert index.count() == 11
    assert check(index.client, index.config, index=index.keys.index).ok


def test_empty_texts_come_back_in_place_and_store_nothing(index: Index) -> None:
    articles = _articles(3, seed=8)
    batch = [articles[0], ArticleIn(text="ADVERTISEMENT", id="ad"), articles[1]]
    [results] = list(ingest_batches(index, [batch]))
    assert isinstance(results[1], EmptyText)
    assert index.count() == 2
    assert index.get("ad") is None


def test_empty_input_and_bad_worker_counts(index: Index) -> None:
    assert list(ingest_batches(index, [])) == []
    assert list(ingest_batches(index, [[], []])) == []
    with pytest.raises(ValueError, match="workers must be at least 1"):
        list(ingest_batches(index, [_articles(1)], workers=0))
