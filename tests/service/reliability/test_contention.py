"""Writers racing for one id: the loser of every retry gets a 409 with
``Retry-After`` (never a 500), and the index stays whole."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from service.api import create_app
from service.model import ArticleIn, Contention
from service.settings import Settings
from service.storage.check import check
from service.storage.index import Index
from tests.service.reliability.conftest import article_text


@pytest.fixture
def rival(redis_client: redis.Redis, settings: Settings) -> Index:
    """A second writer on the same index (another process, as far as Redis knows)."""
    return Index(redis_client, settings.pipeline(), settings.thresholds())


@pytest.fixture
def always_outrun(monkeypatch: pytest.MonkeyPatch, rival: Index) -> Iterator[Counter[str]]:
    """Between each read of the id and its write script, the rival replaces the
    article: every attempt of the writer under test loses its race."""
    real = Index._put_args
    state = threading.local()
    raced: Counter[str] = Counter()

    def racing(self: Index, part: Any, doc: Any, *args: Any) -> Any:
        out = real(self, part, doc, *args)
        if self is not rival and not getattr(state, "inside", False):
            state.inside = True
            try:
                raced[doc.id] += 1
                rival.put(ArticleIn(id=doc.id, text=article_text(raced[doc.id] % 5)), limit=0)
            finally:
                state.inside = False
        return out

    monkeypatch.setattr(Index, "_put_args", racing)
    yield raced


def test_a_write_outrun_every_time_raises_contention(
    index: Index, always_outrun: Counter[str], redis_client: redis.Redis, settings: Settings
) -> None:
    with pytest.raises(Contention) as err:
        index.put(ArticleIn(id="hot", text=article_text(7)))
    assert "retry it after" in str(err.value)
    assert always_outrun["hot"] == 8
    report = check(redis_client, settings.pipeline())
    assert report.ok, report.problems
    stored = index.get("hot")
    assert stored is not None and stored.text != article_text(7)  # the rival's version, whole


def test_api_answers_409_with_retry_after(
    settings: Settings, redis_client: redis.Redis, always_outrun: Counter[str]
) -> None:
    with TestClient(create_app(settings, client=redis_client)) as api:
        r = api.post("/articles", json={"id": "hot", "text": article_text(7)})
    assert r.status_code == 409, r.text
    assert r.headers["retry-after"] == "1"
    assert "hot" in r.json()["detail"] and "retry" in r.json()["detail"]


def test_eight_threads_replacing_one_id_never_fail_unexplained(
    index: Index, rival: Index, redis_client: redis.Redis, settings: Settings
) -> None:
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        mine = Index(redis_client, settings.pipeline(), settings.thresholds())
        for i in range(10):
            try:
                mine.put(ArticleIn(id="one", text=article_text(t * 10 + i)), limit=0)
                outcomes["written"] += 1
            except Contention:
                outcomes["contended"] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert outcomes["written"] + outcomes["contended"] == 80
    assert outcomes["written"] >= 8  # every thread got through at least once on average
    report = check(redis_client, settings.pipeline())
    assert report.ok, report.problems
    assert index.count() == 1
