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
from typing import Any, cast

import redis

from service.storage import layout
from service.storage.keys import IndexKeys

#: Time-index entries read per round trip while searching.
CHUNK = 500
#: Most time-index entries one search reads (about 40 round trips).
SCAN_CAP = 20_000
_FIELDS = layout.LISTED_FIELDS
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


def _rows(client: redis.Redis, keys: IndexKeys, numbers: list[int]) -> list[ArticleRow]:
    """The listed fields of global doc numbers, in their order."""
    pipe = client.pipeline(transaction=False)
    for n in numbers:
        pipe.hmget(keys.doc(n), list(_FIELDS))
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
    keys: IndexKeys,
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
        total = sum(int(n) for n in _each(client, keys, "zcard"))
        return _page(
            _rows(client, keys, _newest(client, keys, offset, limit)), offset, limit, total
        )
    if (day := _day(q)) is not None:
        lo, hi = day
        total = sum(int(n) for n in _each(client, keys, "zcount", lo, f"({hi}"))
        numbers = _newest(client, keys, offset, limit, (lo, hi))
        return _page(_rows(client, keys, numbers), offset, limit, total)
    return _search(client, keys, q, offset, limit, scan_cap)


def _each(client: redis.Redis, keys: IndexKeys, command: str, *args: Any) -> list[Any]:
    """``command`` on every partition's ``bytime``, pipelined."""
    pipe = client.pipeline(transaction=False)
    for part in keys.parts:
        getattr(pipe, command)(part.bytime, *args)
    return list(pipe.execute())


def _newest(
    client: redis.Redis,
    keys: IndexKeys,
    start: int,
    count: int,
    window: tuple[float, float] | None = None,
) -> list[int]:
    """Global doc numbers ``start`` .. ``start + count - 1`` of the index, newest
    first (published within ``window``, if given). Several partitions are
    merged by time: each gives its newest ``start + count``."""
    one = len(keys.parts) == 1
    first, n = (start, count) if one else (0, start + count)
    if window is None:
        replies = _each(client, keys, "zrevrange", first, first + n - 1, True)
    else:
        lo, hi = window
        replies = _each(client, keys, "zrevrangebyscore", f"({hi}", lo, first, n, True)
    merged = sorted(
        ((-score, keys.number(p, int(m))) for p, rows in enumerate(replies) for m, score in rows),
    )
    return [number for _, number in merged][start - first : start - first + count]


def _page(rows: list[ArticleRow], offset: int, limit: int, total: int) -> ArticlePage:
    more = offset + limit < total
    return ArticlePage(rows, offset, limit, total, offset + limit if more else None)


def _search(
    client: redis.Redis, keys: IndexKeys, q: str, offset: int, limit: int, scan_cap: int
) -> ArticlePage:
    needle = q.casefold()
    wanted = offset + limit + 1  # one more than the page: is there a next page?
    found: list[ArticleRow] = []
    p = keys.partition_of(q)
    exact = client.hget(keys.parts[p].ids, q)
    if exact is not None:
        found.extend(_rows(client, keys, [keys.number(p, int(cast(bytes, exact)))]))
    exact_id = found[0].id if found else None
    read = 0
    complete = True
    while len(found) < wanted:
        if read >= scan_cap:
            complete = False
            break
        size = min(CHUNK, scan_cap - read)
        numbers = _newest(client, keys, read, size)
        read += len(numbers)
        found.extend(
            r for r in _rows(client, keys, numbers) if r.id != exact_id and _fits(r, needle)
        )
        if len(numbers) < size:  # the end of the index
            break
    rows = found[offset : offset + limit]
    more = len(found) > offset + limit
    return ArticlePage(rows, offset, limit, None, offset + limit if more else None, complete)
