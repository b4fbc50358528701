"""Schemathesis over the whole OpenAPI schema: no input gives a server error.

Every operation the schema has is covered, including routes other modules
add (alignments, clustering). Examples per operation are bounded to keep the
suite fast; raise ``COPYDESK_FUZZ_EXAMPLES`` for a longer local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from service.api import create_app
from service.settings import Settings, get_settings
from tests.service.reliability.conftest import article_text

EXAMPLES = int(os.environ.get("COPYDESK_FUZZ_EXAMPLES", "20"))
#: How each operation is fuzzed: reproducible (derandomised, no example database).
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


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
    @FUZZ
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


# -- every check (schemathesis ``--checks all``) ----------------------------------------------

#: Refusals of schema-valid bodies that a JSON schema cannot state (they depend on what the
#: values mean), each a 422 saying what to send: an ``html`` page with no article in it, a
#: ``text`` with no words once page chrome is removed, a clustering window whose
#: ``since`` is after its ``until``, and a clustering job asking for ``rewritten`` links
#: with ``estimate`` verification (the aligner needs the exact scores). Nothing else may
#: refuse valid data.
SEMANTIC_REFUSALS = (
    "no article text could be extracted from `html`",
    "text has no words once page chrome",
    "since must not be after until",
    "rewritten links need verify",
)


def _semantic_refusal(response: object) -> bool:
    if getattr(response, "status_code", None) != 422:
        return False
    try:
        detail = response.json().get("detail", "")  # type: ignore[attr-defined]
    except ValueError:
        return False
    return isinstance(detail, str) and detail.startswith(SEMANTIC_REFUSALS)


def positive_data_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """schemathesis' ``positive_data_acceptance``, except for ``SEMANTIC_REFUSALS``."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    if _semantic_refusal(response):
        return None
    return positive_data_acceptance(ctx, response, case)


def _all_checks() -> list[Any]:
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    load_all_checks()
    checks = [c for c in CHECKS.get_all() if c is not positive_data_acceptance]
    return [*checks, positive_data_accepted]


def test_all_checks_are_the_cli_set() -> None:
    names = {c.__name__ for c in _all_checks()}
    assert "positive_data_accepted" in names and "positive_data_acceptance" not in names
    for name in (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "unsupported_method",
        "allow_header_conformance",
    ):
        assert name in names, name


def test_every_id_path_parameter_carries_a_pattern_or_any_string_is_a_404(
    fuzzed_app: FastAPI,
) -> None:
    # A pattern after a validator in Annotated[...] is dropped from the schema by FastAPI:
    # the fuzzer then sends ids the route refuses with 422 (schema-valid data rejected).
    spec = fuzzed_app.openapi()
    params = spec["paths"]["/articles/{article_id}"]["get"]["parameters"]
    assert params[0]["schema"]["pattern"].startswith("^")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("label", _operations())
def test_every_check_passes(fuzzed_app: FastAPI, label: str, mode: str) -> None:
    """Every operation, valid and invalid data, every built-in check: status codes,
    content types, headers and bodies conform to the schema, valid data is accepted
    (but ``SEMANTIC_REFUSALS``), invalid data refused, undocumented methods are 405
    with the schema's ``Allow``."""
    method, path = label.split(" ", 1)
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    operation = schema[path][method]
    checks = _all_checks()

    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    @FUZZ
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=checks)

    try:
        fuzz()
    except Unsatisfiable:
        if mode == "positive":
            raise
        # Nothing invalid can be generated: that must be because the operation
        # takes no body and no query parameters (its path parameters are checked
        # by the positive phase and by test_bad_input's hostile ids).
        entry = fuzzed_app.openapi()["paths"][path][method.lower()]
        assert "requestBody" not in entry, label
        assert all(p["in"] == "path" for p in entry.get("parameters", [])), label
