"""Listing and searching stored articles, newest first, a page at a time.

The order is the index's own time index (``Keys.bytime``: doc number ->
``published_at``, else ingest time), read with ``ZREVRANGE`` in bounded
chunks: nothing here walks the keyspace, and no call reads more than
``scan_cap`` entries of it.

A query ``q`` is one of:

- empty: every article, newest first (``total`` is the index's size);
- a date ``YYYY-MM-DD``: the articles of that UTC day, by their time score;
- anything else: the articles whose id, title or source contain ``q``
  (case-insensitive), an exact id first. Substring search reads the newest
  ``scan_cap`` articles at most: ``complete`` is False when it stopped there,
  so a page can say that older articles were not searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import redis

from service.keys import Keys

#: Time-index entries read per round trip while searching.
CHUNK = 500
#: Most time-index entries one search reads (about 40 round trips).
SCAN_CAP = 20_000
_FIELDS = ("id", "title", "source", "url", "published_at", "ingested_at")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ArticleRow:
    """What a list shows of one article (no text)."""

    id: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None
    ingested_at: str


@dataclass(frozen=True)
class ArticlePage:
    articles: list[ArticleRow]
    offset: int
    limit: int
    #: Articles that fit the query, when known without reading them all
    #: (an empty query or a date); None for a substring search.
    total: int | None
    #: The offset of the next page, or None on the last one.
    next_offset: int | None
    #: False when a substring search stopped at ``scan_cap`` entries.
    complete: bool = True


def _decode(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None


def _rows(client: redis.Redis, keys: Keys, numbers: list[bytes]) -> list[ArticleRow]:
    pipe = client.pipeline(transaction=False)
    for n in numbers:
        pipe.hmget(keys.doc(int(n)), list(_FIELDS))
    out = []
    for values in pipe.execute():
        raw = dict(zip(_FIELDS, cast("list[bytes | None]", values), strict=True))
        if raw["id"] is None:  # removed between the two reads
            continue
        out.append(
            ArticleRow(
                id=_decode(raw["id"]) or "",
                title=_decode(raw["title"]),
                source=_decode(raw["source"]),
                url=_decode(raw["url"]),
                published_at=_decode(raw["published_at"]),
                ingested_at=_decode(raw["ingested_at"]) or "",
            )
        )
    return out


def _day(q: str) -> tuple[float, float] | None:
    if not _DAY.match(q):
        return None
    try:
        start = datetime.strptime(q, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def _fits(row: ArticleRow, needle: str) -> bool:
    return any(needle in (v or "").casefold() for v in (row.id, row.title, row.source))


def list_articles(
    client: redis.Redis,
    keys: Keys,
    q: str = "",
    *,
    offset: int = 0,
    limit: int = 20,
    scan_cap: int = SCAN_CAP,
) -> ArticlePage:
    """One page of the articles that fit ``q`` (see the module docstring)."""
    q = q.strip()
    offset, limit = max(0, offset), max(1, limit)
    if not q:
        total = int(client.zcard(keys.bytime))
        numbers = cast("list[bytes]", client.zrevrange(keys.bytime, offset, offset + limit - 1))
        return _page(_rows(client, keys, numbers), offset, limit, total)
    if (day := _day(q)) is not None:
        lo, hi = day
        total = int(client.zcount(keys.bytime, lo, f"({hi}"))
        numbers = cast(
            "list[bytes]",
            client.zrevrangebyscore(keys.bytime, f"({hi}", lo, start=offset, num=limit),
        )
        return _page(_rows(client, keys, numbers), offset, limit, total)
    return _search(client, keys, q, offset, limit, scan_cap)


def _page(rows: list[ArticleRow], offset: int, limit: int, total: int) -> ArticlePage:
    more = offset + limit < total
    return ArticlePage(rows, offset, limit, total, offset + limit if more else None)


def _search(
    client: redis.Redis, keys: Keys, q: str, offset: int, limit: int, scan_cap: int
) -> ArticlePage:
    needle = q.casefold()
    wanted = offset + limit + 1  # one more than the page: is there a next page?
    found: list[ArticleRow] = []
    exact = client.hget(keys.ids, q)
    if exact is not None:
        found.extend(_rows(client, keys, [cast(bytes, exact)]))
    exact_id = found[0].id if found else None
    read = 0
    complete = True
    while len(found) < wanted:
        if read >= scan_cap:
            complete = False
            break
        size = min(CHUNK, scan_cap - read)
        numbers = cast("list[bytes]", client.zrevrange(keys.bytime, read, read + size - 1))
        read += len(numbers)
        found.extend(
            r for r in _rows(client, keys, numbers) if r.id != exact_id and _fits(r, needle)
        )
        if len(numbers) < size:  # the end of the index
            break
    rows = found[offset : offset + limit]
    more = len(found) > offset + limit
    return ArticlePage(rows, offset, limit, None, offset + limit if more else None, complete)
