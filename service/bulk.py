"""Bulk ingest as a pipeline: analyse one batch while Redis writes the last.

``Index.put_many`` is analyse-then-write: the client waits while Redis runs
the batch's scripts, and Redis idles while the client analyses. Here the
writes of batch N run in a background thread (mostly waiting on the socket,
so the GIL is free) while batch N+1 is analysed, in this process or in
``workers`` processes. Results come back in batch order, each batch as
``put_many`` would return it, and every article is still written by its own
atomic script: the overlap changes throughput, not what is stored.

Each batch's ids are read in the writer thread after the previous batch's
writes have landed, so batches see each other exactly as consecutive
``put_many`` calls do (an id repeated across batches is replaced in order).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial

from service.model import ArticleIn, EmptyText, PutResult
from service.storage.index import Index, analyse_article
from service.storage.layout import PreparedDoc
from shingling import PipelineConfig

Results = list[PutResult | EmptyText]


def _prepare_all(
    articles: list[ArticleIn], config: PipelineConfig
) -> list[PreparedDoc | EmptyText]:
    return [analyse_article(a, config) for a in articles]


def _chunks(batch: list[ArticleIn], parts: int) -> list[list[ArticleIn]]:
    size = -(-len(batch) // parts)
    return [batch[i : i + size] for i in range(0, len(batch), size)]


def ingest_batches(
    index: Index, batches: Iterable[list[ArticleIn]], *, workers: int = 1
) -> Iterator[Results]:
    """``index.put_many(batch)`` for each batch, overlapped; yields each batch's results.

    ``workers`` > 1 analyses in that many processes (spawned once, here) and
    keeps the next batch's analysis running while this process writes. On a
    machine whose cores Redis shares, more workers than cores only adds
    contention.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    index.check_config()
    # Inline analysis of batch N runs while batch N-1 is written; with a pool,
    # batch N+1 is also being analysed meanwhile (one batch of lookahead).
    lookahead = 0 if workers == 1 else 1
    with ExitStack() as stack:
        writer = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="copydesk-write"))
        analyse = _analyser(stack, index.config, workers)
        queue: deque[tuple[list[ArticleIn], Future[list[PreparedDoc | EmptyText]]]] = deque()
        written: Future[Results] | None = None

        def write_next() -> Iterator[Results]:
            nonlocal written
            batch, docs = queue.popleft()
            ready = docs.result()
            if written is not None:
                yield written.result()
            written = writer.submit(index.write_prepared, batch, ready)

        for batch in batches:
            if batch := list(batch):
                queue.append((batch, analyse(batch)))
            while len(queue) > lookahead:
                yield from write_next()
        while queue:
            yield from write_next()
        if written is not None:
            yield written.result()


def _analyser(
    stack: ExitStack, config: PipelineConfig, workers: int
) -> Callable[[list[ArticleIn]], Future[list[PreparedDoc | EmptyText]]]:
    """A function starting the analysis of a batch, returning its future."""
    if workers == 1:
        # Inline, now: the future is already done when returned.
        def inline(batch: list[ArticleIn]) -> Future[list[PreparedDoc | EmptyText]]:
            done: Future[list[PreparedDoc | EmptyText]] = Future()
            done.set_result(_prepare_all(batch, config))
            return done

        return inline
    # spawn, not fork: this process already runs a writer thread and holds
    # Redis connections, neither of which a forked child may inherit safely.
    pool: Executor = stack.enter_context(
        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    )
    work = partial(_prepare_all, config=config)

    def in_pool(batch: list[ArticleIn]) -> Future[list[PreparedDoc | EmptyText]]:
        parts = [pool.submit(work, chunk) for chunk in _chunks(batch, workers)]
        whole: Future[list[PreparedDoc | EmptyText]] = Future()

        def gather(_: object) -> None:
            if all(p.done() for p in parts) and not whole.done():
                try:
                    whole.set_result([doc for p in parts for doc in p.result()])
                except BaseException as exc:  # a worker's error reaches the caller
                    whole.set_exception(exc)

        for p in parts:
            p.add_done_callback(gather)
        return whole

    return in_pool
