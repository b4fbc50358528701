"""Schemathesis over the whole OpenAPI schema: no input gives a server error.

Every operation the schema has is covered, including routes other modules
add (alignments, clustering). Examples per operation are bounded to keep the
suite fast; raise ``COPYDESK_FUZZ_EXAMPLES`` for a longer local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from service.api import create_app
from service.settings import Settings, get_settings
from tests.service.reliability.conftest import article_text

EXAMPLES = int(os.environ.get("COPYDESK_FUZZ_EXAMPLES", "20"))


@pytest.fixture
def fuzzed_app(settings: Settings, redis_client: redis.Redis) -> Iterator[FastAPI]:
    app = create_app(settings, client=redis_client)
    with TestClient(app):  # runs the lifespan: app.state.index is set
        client = TestClient(app)
        for i in range(3):  # some stored articles, so GETs also hit existing ids
            client.post("/articles", json={"id": f"seed-{i}", "text": article_text(i)})
        yield app


def _operations() -> list[str]:
    """Every operation of the schema, read at collection time (no Redis needed)."""
    spec = create_app(get_settings()).openapi()
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.mark.slow
@pytest.mark.parametrize("label", _operations())
def test_no_server_errors(fuzzed_app: FastAPI, label: str) -> None:
    method, path = label.split(" ", 1)
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    operation = schema[path][method]
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call()
        if response.status_code >= 500:
            curl = case.as_curl_command()
            failures.append(f"{response.status_code}: {curl}\n{response.text[:300]}")
        assert response.status_code < 500, failures[-1]
        ctype = response.headers.get("content-type", [""])
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        if response.status_code >= 400 and ctype.startswith("application/json"):
            detail = response.json().get("detail")
            assert isinstance(detail, str) and detail, response.text[:300]

    fuzz()
