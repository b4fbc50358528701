"""service.storage.listing: pages newest first, a day, and substring search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.model import ArticleIn
from service.storage.index import Index
from service.storage.listing import list_articles

START = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)


def _text(i: int) -> str:
    words = " ".join(f"w{i}x{j}" for j in range(40))
    return f"Story number {i} about item {i}. {words}."


@pytest.fixture
def filled(index: Index) -> Index:
    for i in range(12):  # one every 4 hours: 5 on 2024-01-01, 6 on the 2nd, 1 on the 3rd
        when = START + timedelta(hours=4 * i)
        source = "Wire" if i % 3 == 0 else "Daily"
        index.put(ArticleIn(_text(i), id=f"s{i:02d}", source=source, published_at=when), limit=0)
    return index


def test_pages_are_newest_first_with_a_total(filled: Index) -> None:
    c, keys = filled.client, filled.keys
    first = list_articles(c, keys, "", limit=5)
    assert [r.id for r in first.articles] == ["s11", "s10", "s09", "s08", "s07"]
    assert (first.total, first.next_offset, first.complete) == (12, 5, True)
    last = list_articles(c, keys, "", offset=10, limit=5)
    assert [r.id for r in last.articles] == ["s01", "s00"] and last.next_offset is None
    row = last.articles[-1]
    assert row.source == "Wire" and row.published_at == START.isoformat() and row.ingested_at


def test_a_date_lists_that_utc_day(filled: Index) -> None:
    page = list_articles(filled.client, filled.keys, "2024-01-02", limit=4)
    assert page.total == 6 and [r.id for r in page.articles] == ["s10", "s09", "s08", "s07"]
    assert list_articles(filled.client, filled.keys, "2024-01-01", offset=4).articles[0].id == "s00"
    assert list_articles(filled.client, filled.keys, "2023-12-31").total == 0


def test_substring_search_puts_the_exact_id_first(filled: Index) -> None:
    c, keys = filled.client, filled.keys
    wire = list_articles(c, keys, "wire", limit=10)
    assert [r.id for r in wire.articles] == ["s09", "s06", "s03", "s00"] and wire.total is None
    exact = list_articles(c, keys, "s01", limit=10)
    assert [r.id for r in exact.articles] == ["s01"]
    capped = list_articles(c, keys, "daily", limit=10, scan_cap=3)
    assert not capped.complete and [r.id for r in capped.articles] == ["s11", "s10"]


def test_an_invalid_date_is_a_substring(filled: Index) -> None:
    page = list_articles(filled.client, filled.keys, "2024-13-45")
    assert page.total is None and page.articles == []
