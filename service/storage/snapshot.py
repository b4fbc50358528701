"""Reading a whole index in bulk, for the batch job: ids, signatures, passage
fingerprints, dates and sources, and the stored shingle sets.

Bulk, never one round trip per article: the id maps by HSCAN, then the ``sig``
blocks with pipelined GETs (about one round trip per 32 blocks of 1024
articles), and doc fields pipelined 500 docs at a time.

Consistency: what is read is the index as it is while it reads; articles
written or deleted meanwhile may be missed or dropped (a replaced article's
old signature slot reads as zeros and is skipped; a deleted doc's fields read
as empty).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import redis

from service.storage import layout
from service.storage.keys import IndexKeys
from shingling import PipelineConfig, Shingles, shingle
from shingling.shingles import narrow
from shingling.signature import SIG_DTYPE

_BLOCKS_PER_ROUND_TRIP = 32
_DOCS_PER_ROUND_TRIP = 500


@dataclass
class Snapshot:
    """Live articles of the index: doc numbers, ids and signatures, row-aligned."""

    docs: np.ndarray  # int64 doc numbers
    ids: list[str]
    sigs: np.ndarray  # (n, num_perm) uint32


def load_fingerprints(client: redis.Redis, keys: IndexKeys, docs: np.ndarray) -> list[np.ndarray]:
    """Each doc's own passage fingerprints (its ``fp`` field), pipelined; empty
    for a doc deleted since the snapshot."""
    out: list[np.ndarray] = []
    for i in range(0, len(docs), _DOCS_PER_ROUND_TRIP):
        pipe = client.pipeline(transaction=False)
        for n in docs[i : i + _DOCS_PER_ROUND_TRIP]:
            pipe.hget(keys.doc(int(n)), layout.FINGERPRINTS)
        out.extend(layout.unpack_u32s(raw) for raw in pipe.execute())
    return out


def load_signatures(
    client: redis.Redis,
    keys: IndexKeys,
    config: PipelineConfig,
    *,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> Snapshot:
    """Every live article's signature, read in bulk (see the module docstring)."""
    by_doc = read_ids(client, keys, since=since, until=until)
    docs = np.array(sorted(by_doc), dtype=np.int64)
    sigs = read_signatures(client, keys, config.num_perm, docs, progress=progress)
    # A slot of zeros: the article was replaced or deleted while we read.
    live = sigs.any(axis=1)
    return Snapshot(docs[live], [by_doc[int(n)] for n in docs[live]], sigs[live])


def read_ids(
    client: redis.Redis, keys: IndexKeys, *, since: float | None = None, until: float | None = None
) -> dict[int, str]:
    """Doc number -> article id of every article (published in the window, if given)."""
    by_doc: dict[int, str] = {}
    for p, part in enumerate(keys.parts):
        for raw_id, raw_n in client.hscan_iter(part.ids, count=10_000):
            by_doc[keys.number(p, layout.decode_number(raw_n))] = raw_id.decode()
    if since is not None or until is not None:
        lo = "-inf" if since is None else since
        hi = "+inf" if until is None else until
        window = {
            keys.number(p, layout.decode_number(n))
            for p, part in enumerate(keys.parts)
            for n in cast("list[bytes]", client.zrangebyscore(part.bytime, lo, hi))
        }
        by_doc = {n: i for n, i in by_doc.items() if n in window}
    return by_doc


def read_signatures(
    client: redis.Redis,
    keys: IndexKeys,
    num_perm: int,
    docs: np.ndarray,
    *,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """The signatures of sorted doc numbers ``docs``, a row each, read whole
    ``sig`` blocks at a time (pipelined); zeros where a slot is empty."""
    sigs = np.zeros((len(docs), num_perm), dtype=SIG_DTYPE)
    block_of = layout.sig_block_of(docs)  # sorted, as docs is
    blocks = np.unique(block_of)
    slot = layout.sig_slot_of(docs)
    for i in range(0, len(blocks), _BLOCKS_PER_ROUND_TRIP):
        chunk = blocks[i : i + _BLOCKS_PER_ROUND_TRIP]
        pipe = client.pipeline(transaction=False)
        for blk in chunk:
            pipe.get(keys.sig_block(layout.sig_block_start(int(blk))))
        for blk, raw in zip(chunk, pipe.execute(), strict=True):
            lo, hi = np.searchsorted(block_of, [blk, blk + 1])
            rows = np.arange(lo, hi)
            sigs[rows] = layout.decode_sig_block(raw, num_perm)[slot[rows]]
        if progress is not None:
            progress(min(1.0, (i + len(chunk)) / max(len(blocks), 1)))
    return sigs


def read_published(
    client: redis.Redis, keys: IndexKeys, docs: np.ndarray
) -> tuple[np.ndarray, list[str | None]]:
    """``published_at`` (epoch seconds, NaN when unknown) and ``source`` (None when
    unknown) of doc numbers, pipelined."""
    out = np.full(len(docs), np.nan)
    sources: list[str | None] = []
    for i in range(0, len(docs), _DOCS_PER_ROUND_TRIP):
        pipe = client.pipeline(transaction=False)
        for n in docs[i : i + _DOCS_PER_ROUND_TRIP]:
            pipe.hmget(keys.doc(int(n)), layout.PUBLISHED_AT, layout.SOURCE)
        for j, (raw, source) in enumerate(pipe.execute()):
            when = layout.decode_time(raw)
            if when is not None:
                out[i + j] = when
            sources.append(layout.decode_str(source) if source else None)
    return out, sources


def stored_shingles(
    client: redis.Redis, keys: IndexKeys, config: PipelineConfig, docs: np.ndarray
) -> Callable[[Sequence[int]], list[Shingles]]:
    """The stored shingle sets (``sh``/``nq``, 32-bit, as the online path scores
    them) of doc rows, pipelined; re-shingled from the text where a document
    has no stored set."""
    empty = Shingles(np.empty(0, np.uint32), np.empty(0, np.uint32))

    def fetch(rows: Sequence[int]) -> list[Shingles]:
        out: list[Shingles] = []
        for i in range(0, len(rows), _DOCS_PER_ROUND_TRIP):
            pipe = client.pipeline(transaction=False)
            for r in rows[i : i + _DOCS_PER_ROUND_TRIP]:
                pipe.hmget(keys.doc(int(docs[r])), layout.SHINGLES, layout.NARRATIVE, layout.TEXT)
            for hashes, narrative, raw in pipe.execute():
                if hashes is not None:
                    out.append(layout.decode_shingles(hashes, narrative))
                elif raw:
                    out.append(narrow(shingle(layout.decode_text(raw), config)))
                else:  # deleted since the snapshot: an empty set links to nothing
                    out.append(empty)
        return out

    return fetch


def stored_texts(
    client: redis.Redis, keys: IndexKeys, docs: np.ndarray
) -> Callable[[Sequence[int]], list[str]]:
    """The stored texts of doc rows, pipelined ('' for a doc deleted since the
    snapshot: it aligns with nothing)."""

    def fetch(rows: Sequence[int]) -> list[str]:
        out: list[str] = []
        for i in range(0, len(rows), _DOCS_PER_ROUND_TRIP):
            pipe = client.pipeline(transaction=False)
            for r in rows[i : i + _DOCS_PER_ROUND_TRIP]:
                pipe.hget(keys.doc(int(docs[r])), layout.TEXT)
            out.extend(layout.decode_text(raw) if raw else "" for raw in pipe.execute())
        return out

    return fetch
