"""The ASGI middleware: request metrics (body limits are in reliability/)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Message, Receive, Scope, Send

from service.api.middleware import Observe


def _requests(api: TestClient) -> dict[tuple[str, str, str], float]:
    text = api.get("/metrics").text
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "copydesk_requests_total":
                labels = sample.labels
                counts[(labels["method"], labels["route"], labels["status"])] = sample.value
    return counts


def test_requests_are_counted_by_route_template_and_status(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    assert api.post("/articles", json={"id": "a", "text": seed_texts["000"]}).status_code == 201
    assert api.get("/articles/nope").status_code == 404
    assert api.get("/articles/nope").status_code == 404
    assert api.get("/no/such/path").status_code == 404
    counts = _requests(api)
    assert counts[("POST", "/articles", "201")] == 1
    assert counts[("GET", "/articles/{article_id}", "404")] == 2
    assert counts[("GET", "unmatched", "404")] == 1
    latency = api.get("/metrics").text
    assert 'copydesk_request_seconds_count{method="GET",route="/articles/{article_id}"} 2.0' in (
        latency
    )


def _observed(app: object) -> tuple[Observe, Counter]:
    registry = CollectorRegistry()
    requests = Counter("r", "r", ["method", "route", "status"], registry=registry)
    latency = Histogram("l", "l", ["method", "route"], registry=registry)
    return Observe(app, requests, latency), requests  # type: ignore[arg-type]


def _call(app: Observe, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_handler_that_raises_counts_as_a_500_and_still_raises() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app, requests = _observed(broken)
    with pytest.raises(RuntimeError):
        _call(app, {"type": "http", "method": "GET", "path": "/x"})
    assert requests.labels("GET", "unmatched", "500")._value.get() == 1


def test_responses_pass_through_unchanged_and_other_scopes_are_not_counted() -> None:
    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    app, requests = _observed(ok)
    sent = _call(app, {"type": "http", "method": "DELETE", "path": "/x"})
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert requests.labels("DELETE", "unmatched", "204")._value.get() == 1
    assert _call(app, {"type": "lifespan"}) == []
    counted = {tuple(s.labels.values()) for m in requests.collect() for s in m.samples}
    assert counted == {("DELETE", "unmatched", "204")}
