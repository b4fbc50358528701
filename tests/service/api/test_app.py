"""service.api.app: error answers that say what to fix (400, 422), and the schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_malformed_json_400(api: TestClient) -> None:
    r = api.post("/articles", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "JSON" in r.json()["detail"]


def test_openapi_has_examples(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    assert "/articles" in schema["paths"]
    assert schema["components"]["schemas"]["ArticleBody"]["examples"]


# -- 422 wording: the field named, what a good value looks like, no pydantic jargon ----------
def test_422_names_a_missing_field_and_the_missing_body(api: TestClient) -> None:
    r = api.post("/articles", content=b"", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == "the request body is required; see the schema at /docs"
    r = api.post("/alignments", json={"a": "some text here"})
    assert r.status_code == 422
    assert r.json()["detail"] == "`b` is required; see the schema at /docs"


@pytest.mark.parametrize(
    ("value", "tail"),
    [
        ("yesterday", "not 'yesterday'"),
        ("2024-13-01T00:00:00Z", "(month value is outside expected range of 1-12)"),
        ("2024", "not a number ('2024')"),  # lax pydantic took it as 1970-01-01T00:33:44
    ],
)
def test_422_says_what_a_date_should_look_like(api: TestClient, value: str, tail: str) -> None:
    r = api.post("/articles", json={"text": "some words to index", "published_at": value})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("published_at: must be an ISO 8601 ")
    assert "such as 2024-05-01T12:00:00Z" in detail and detail.endswith(tail)
    assert "too short" not in detail and "Input should" not in detail


def test_422_says_what_an_id_is_instead_of_a_regex(api: TestClient) -> None:
    for r in (
        api.post("/articles", json={"id": "a b", "text": "some words to index"}),
        api.get("/articles/a%20b"),
    ):
        assert r.status_code == 422
        detail = r.json()["detail"]
        assert "1-200 letters, digits or . : @ ~ + = - _" in detail and "'a b' is not" in detail
        assert "pattern" not in detail and "^[" not in detail
    r = api.get("/articles/x/matches?limit=abc")
    assert r.json()["detail"] == "query.limit: must be a whole number, not 'abc'"
