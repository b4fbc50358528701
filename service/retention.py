"""Retention: articles older than ``COPYDESK_RETENTION_DAYS`` leave the index.

Age is the article's ``published_at``, else its ingest time (the score of the
``bytime`` index). Each expired article leaves every structure atomically
(``Index.expire``). ``sweep`` removes everything due now; ``Sweeper`` runs it
periodically in the service; ``copydesk expire`` runs it once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from service.storage.index import Index

log = logging.getLogger("copydesk.retention")

#: Seconds between two sweeps in the service.
SWEEP_INTERVAL = 60.0
#: Articles per expire round trip, and the most rounds of one sweep (a sweep
#: that cannot finish leaves the rest to the next one instead of blocking).
SWEEP_BATCH = 500
MAX_ROUNDS = 1000


def cutoff(days: float, now: float | None = None) -> float:
    """Epoch seconds before which an article is expired."""
    return (time.time() if now is None else now) - days * 86400.0


def sweep(index: Index, days: float, *, now: float | None = None) -> int:
    """Expire every article older than ``days`` (bounded rounds); returns how many."""
    before = cutoff(days, now)
    removed = 0
    for _ in range(MAX_ROUNDS):
        n = index.expire(before, batch=SWEEP_BATCH)
        removed += n
        if n == 0:
            break
    return removed


class Sweeper:
    """A daemon thread that sweeps every ``interval`` seconds until stopped."""

    def __init__(self, index: Index, days: float, *, interval: float = SWEEP_INTERVAL) -> None:
        self.index = index
        self.days = days
        self.interval = interval
        self.removed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="copydesk-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.removed += sweep(self.index, self.days)
            except redis.RedisError as exc:  # Redis away: try again next time
                log.warning("retention sweep failed (%s); retrying in %.0fs", exc, self.interval)
            self._stop.wait(self.interval)


@contextmanager
def running(
    index: Index, days: float | None, *, interval: float = SWEEP_INTERVAL
) -> Iterator[Sweeper | None]:
    """Sweep in the background while the context is open; nothing when ``days`` is None."""
    if days is None:
        yield None
        return
    sweeper = Sweeper(index, days, interval=interval)
    sweeper.start()
    log.info("retention: articles older than %g days expire (sweep every %.0fs)", days, interval)
    try:
        yield sweeper
    finally:
        sweeper.stop()
