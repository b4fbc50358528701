"""What a clustering run reads: an index in Redis, or a corpus of texts in memory.

Both give ``service.jobs.run.cluster`` the same ``Articles``: ids and
signatures row by row, and on demand the rows' shingle sets (exact
verification), passage fingerprints, dates and sources (origins).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import redis

from service.corpus import BadRecord, read_articles
from service.intake import Rejected, to_article
from service.jobs.store import JobParams
from service.storage.keys import IndexKeys
from service.storage.layout import default_id
from service.storage.snapshot import (
    load_fingerprints,
    load_signatures,
    read_published,
    stored_shingles,
    stored_texts,
)
from shingling import PipelineConfig, Shingles, analyse

Progress = Callable[[float], None]


@dataclass
class Articles:
    """The rows a run links and names."""

    ids: list[str]
    sigs: np.ndarray  # (n, num_perm) uint32
    #: The exact shingle sets of rows; None where they were not kept (estimate only).
    shingles: Callable[[Sequence[int]], list[Shingles]] | None
    #: Each row's passage fingerprints, or None when there are none to read.
    fingerprints: Callable[[], list[np.ndarray] | None]
    #: ``published_at`` (epoch seconds, NaN when unknown) and source (None when
    #: unknown) of rows.
    dates: Callable[[np.ndarray], tuple[np.ndarray, list[str | None]]]
    #: The texts of rows, for the aligner (``JobParams.rewritten``); None where not kept.
    texts: Callable[[Sequence[int]], list[str]] | None = None


@dataclass(frozen=True)
class IndexSource:
    """The live articles of an index (in the job's time window), read in bulk."""

    client: redis.Redis
    keys: IndexKeys
    #: The share of a run's progress that reading takes.
    read_share: float = 0.15

    def articles(self, config: PipelineConfig, params: JobParams, progress: Progress) -> Articles:
        client, keys = self.client, self.keys
        snap = load_signatures(
            client, keys, config, since=params.since, until=params.until, progress=progress
        )
        return Articles(
            snap.ids,
            snap.sigs,
            stored_shingles(client, keys, config, snap.docs),
            lambda: load_fingerprints(client, keys, snap.docs),
            lambda rows: read_published(client, keys, snap.docs[rows]),
            stored_texts(client, keys, snap.docs),
        )


@dataclass
class Corpus:
    """Articles already analysed in memory (``read_corpus``, or a bench's arrays)."""

    ids: list[str]
    sigs: np.ndarray
    published: np.ndarray  # epoch seconds, NaN when unknown
    sources: list[str | None] | None = None
    fingerprints: list[np.ndarray] | None = None
    shingles: list[Shingles] | None = None  # kept for exact verification only
    texts: list[str] | None = None  # kept for rewritten links only
    read_share: float = 0.0

    def articles(self, config: PipelineConfig, params: JobParams, progress: Progress) -> Articles:
        shingles, texts = self.shingles, self.texts
        sources = self.sources or [None] * len(self.ids)
        return Articles(
            self.ids,
            self.sigs,
            (lambda rows: [shingles[r] for r in rows]) if shingles is not None else None,
            lambda: self.fingerprints,
            lambda rows: (self.published[rows], [sources[int(r)] for r in rows]),
            (lambda rows: [texts[r] for r in rows]) if texts is not None else None,
        )


def read_corpus(
    paths: list[Path],
    config: PipelineConfig,
    *,
    max_text_chars: int,
    keep_shingles: bool,
    keep_texts: bool = False,
    total: int,
    skipped: Callable[[str, str], None] = lambda where, why: None,
    progress: Progress = lambda f: None,
) -> Corpus:
    """The articles under ``paths`` (files, folders, JSONL), analysed as the
    index would store them. One that cannot be (unreadable, rejected, no
    words, an id already read) is left out and reported to ``skipped(where,
    why)``; ``total`` is the number of inputs, for ``progress``. Shingle sets
    and texts are kept only when asked for (exact verification; rewritten links)."""
    ids: list[str] = []
    sigs: list[np.ndarray] = []
    published: list[float] = []
    sources: list[str | None] = []
    fingerprints: list[np.ndarray] = []
    shingles: list[Shingles] | None = [] if keep_shingles else None
    texts: list[str] | None = [] if keep_texts else None
    seen: set[str] = set()
    for i, entry in enumerate(read_articles(paths), 1):
        progress(i / max(total, 1))
        if isinstance(entry, BadRecord):
            skipped(entry.where, entry.message)
            continue
        try:
            article = to_article(entry.body, max_text_chars=max_text_chars)
        except Rejected as exc:
            skipped(entry.where, str(exc))
            continue
        analysis = analyse(article.text, config)
        article_id = article.id or default_id(article.text)
        why = "no words" if analysis.empty else None
        if why is None and article_id in seen:
            why = f"id {article_id!r} already read (ids must be unique)"
        if why is not None:
            skipped(entry.where, why)
            continue
        seen.add(article_id)
        ids.append(article_id)
        sigs.append(analysis.signature)
        stamp = article.published_at
        published.append(stamp.timestamp() if stamp is not None else np.nan)
        sources.append(article.source)
        fingerprints.append(analysis.fingerprints)
        if shingles is not None:
            shingles.append(analysis.shingles)
        if texts is not None:
            texts.append(article.text)
    matrix = np.stack(sigs) if sigs else np.empty((0, config.num_perm), dtype=np.uint32)
    dates = np.array(published, dtype=float)
    return Corpus(ids, matrix, dates, sources, fingerprints, shingles, texts)
