"""Bad input on every route: a 4xx whose detail says what to fix, nothing stored,
the server still up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from service.api import create_app
from service.settings import Settings
from tests.service.reliability.conftest import article_text

JSON = {"content-type": "application/json"}
TEXT = article_text(1)
WRITE_ROUTES = ["/articles", "/articles/match"]

# (name, request kwargs, status, a phrase the detail must contain)
BODY_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("malformed json", {"content": b'{"text": "abc"', "headers": JSON}, 400, "not valid JSON"),
    ("trailing comma", {"content": b'{"text": "a",}', "headers": JSON}, 400, "not valid JSON"),
    ("json array", {"content": b"[1, 2]", "headers": JSON}, 422, "object"),
    ("json string", {"content": b'"text"', "headers": JSON}, 422, "object"),
    ("json null", {"content": b"null", "headers": JSON}, 422, "object"),
    ("empty body", {"content": b"", "headers": JSON}, 422, "required"),
    ("text is a number", {"json": {"text": 42}}, 422, "text"),
    ("text is a list", {"json": {"text": ["a"]}}, 422, "text"),
    ("text null", {"json": {"text": None}}, 422, "give the article as `text`"),
    ("text missing", {"json": {"title": "t"}}, 422, "give the article as `text`"),
    ("text empty", {"json": {"text": ""}}, 422, "empty"),
    ("text whitespace", {"json": {"text": " \n\t\u00a0 "}}, 422, "empty or only whitespace"),
    ("text punctuation only", {"json": {"text": "!!! ... ???"}}, 422, "no words"),
    (
        "text chrome only",
        {"json": {"text": "ADVERTISEMENT\n\nSCROLL TO CONTINUE READING"}},
        422,
        "no words",
    ),
    ("text and html", {"json": {"text": TEXT, "html": "<p>x</p>"}}, 422, "not both"),
    (
        "lone surrogate",
        {"content": b'{"text": "ab \\ud800 cd"}', "headers": JSON},
        422,
        "surrogate",
    ),
    (
        "lone low surrogate in title",
        {"content": b'{"text": "ab cd", "title": "\\udc00"}', "headers": JSON},
        422,
        "title",
    ),
    ("nul in id", {"content": b'{"text": "ab cd", "id": "a\\u0000"}', "headers": JSON}, 422, "id"),
    ("not utf-8", {"content": b'{"text": "caf\xe9 \xff"}', "headers": JSON}, 400, "UTF-8"),
    (
        "nested too deep",
        {"content": b"[" * 5000 + b"]" * 5000, "headers": JSON},
        400,
        "nested too deeply",
    ),
    ("no content type", {"content": b'{"text": "a"}'}, 415, "Content-Type: application/json"),
    (
        "text/plain",
        {"content": b"an article", "headers": {"content-type": "text/plain"}},
        415,
        "application/json",
    ),
    ("form encoded", {"data": {"text": "a"}}, 415, "application/json"),
    (
        "bad content-length",
        {"content": b"{}", "headers": {**JSON, "content-length": "x"}},
        400,
        "Content-Length",
    ),
    ("id too long", {"json": {"id": "a" * 201, "text": TEXT}}, 422, "id"),
    ("id empty", {"json": {"id": "", "text": TEXT}}, 422, "id"),
    ("id with slash", {"json": {"id": "../etc/passwd", "text": TEXT}}, 422, "id"),
    ("id with space", {"json": {"id": "a b", "text": TEXT}}, 422, "id"),
    ("id with newline", {"json": {"id": "a\n", "text": TEXT}}, 422, "id"),
    ("id is a number", {"json": {"id": 5, "text": TEXT}}, 422, "id"),
    (
        "id is a huge number",
        {"content": b'{"text": "a", "id": 1' + b"0" * 5000 + b"}", "headers": JSON},
        400,
        "JSON",
    ),
    (
        "published_at words",
        {"json": {"text": TEXT, "published_at": "yesterday"}},
        422,
        "published_at",
    ),
    (
        "published_at month 13",
        {"json": {"text": TEXT, "published_at": "2024-13-01T00:00:00Z"}},
        422,
        "published_at",
    ),
    (
        "published_at past year 9999 in UTC",
        {"json": {"text": TEXT, "published_at": "9999-12-31T23:59:59-23:59"}},
        422,
        "outside years 1-9999",
    ),
    (
        "published_at before year 1 in UTC",
        {"json": {"text": TEXT, "published_at": "0001-01-01T00:00:00+14:00"}},
        422,
        "outside years 1-9999",
    ),
    (
        "published_at huge number",
        {"json": {"text": TEXT, "published_at": 1e20}},
        422,
        "published_at",
    ),
    ("unknown field", {"json": {"text": TEXT, "body": "x"}}, 422, "body"),
    ("title too long", {"json": {"text": TEXT, "title": "t" * 1001}}, 422, "title"),
    ("url too long", {"json": {"text": TEXT, "url": "u" * 2001}}, 422, "url"),
    ("html empty", {"json": {"html": "  "}}, 422, "`html` is empty"),
    (
        "html with no article: navigation only",
        {
            "json": {
                "html": "<html><head><title>Site</title></head><body><nav><ul>"
                "<li><a href=/>Home</a></li><li><a href=/world>World</a></li>"
                "<li><a href=/sport>Sport</a></li></ul></nav></body></html>"
            }
        },
        422,
        "no article text",
    ),
    (
        "html with no article: script only",
        {"json": {"html": "<html><body><div id=app></div><script>load()</script></body></html>"}},
        422,
        "no article text",
    ),
    ("html binary junk", {"json": {"html": "\x01\x02<<<>>>"}}, 422, "no article text"),
]


@pytest.fixture
def api(settings: Settings, redis_client: redis.Redis) -> Iterator[TestClient]:
    small = settings.model_copy(update={"max_text_chars": 5000, "max_body_bytes": 20_000})
    app = create_app(small, client=redis_client)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _nothing_stored(r: redis.Redis) -> None:
    assert r.hlen("{cd:default}:ids") == 0
    assert not list(r.scan_iter(match="{cd:default}:doc:*"))
    assert not list(r.scan_iter(match="{cd:default}:lsh:*"))


@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize(
    ("kwargs", "status", "phrase"),
    [c[1:] for c in BODY_CASES],
    ids=[c[0] for c in BODY_CASES],
)
def test_bad_body(
    api: TestClient,
    redis_client: redis.Redis,
    route: str,
    kwargs: dict[str, Any],
    status: int,
    phrase: str,
) -> None:
    r = api.post(route, **kwargs)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and phrase in detail, detail
    _nothing_stored(redis_client)
    assert api.get("/healthz").status_code == 200


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_oversized_body_declared(api: TestClient, redis_client: redis.Redis, route: str) -> None:
    body = b'{"text": "' + b"word " * 10_000 + b'"}'
    r = api.post(route, content=body, headers=JSON)
    assert r.status_code == 413
    assert "COPYDESK_MAX_BODY_BYTES" in r.json()["detail"]
    _nothing_stored(redis_client)


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_oversized_body_streamed(api: TestClient, redis_client: redis.Redis, route: str) -> None:
    """Chunked, no Content-Length: refused once the limit is crossed while streaming."""
    chunks_sent = 0

    def body() -> Iterator[bytes]:
        nonlocal chunks_sent
        yield b'{"text": "'
        for _ in range(200):
            chunks_sent += 1
            yield b"word " * 200
        yield b'"}'

    r = api.post(route, content=body(), headers=JSON)
    assert r.status_code == 413
    assert "larger than 20000 bytes" in r.json()["detail"]
    _nothing_stored(redis_client)


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_text_too_long(api: TestClient, redis_client: redis.Redis, route: str) -> None:
    r = api.post(route, json={"text": "word " * 1500})  # 7500 chars > 5000, body < 20 kB
    assert r.status_code == 413
    assert "COPYDESK_MAX_TEXT_CHARS" in r.json()["detail"]
    _nothing_stored(redis_client)


@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1001", "1e3"])
def test_bad_limit(api: TestClient, redis_client: redis.Redis, route: str, limit: str) -> None:
    r = api.post(route, json={"text": TEXT}, params={"limit": limit})
    assert r.status_code == 422
    assert "limit" in r.json()["detail"]
    _nothing_stored(redis_client)


ID_ROUTES = [("GET", "/articles/{}"), ("GET", "/articles/{}/matches"), ("DELETE", "/articles/{}")]


@pytest.mark.parametrize(("method", "template"), ID_ROUTES)
@pytest.mark.parametrize("article_id", ["unknown", "x" * 200, "a.b:c@d~e+f=g-h_i", "é"])
def test_unknown_id_404(api: TestClient, method: str, template: str, article_id: str) -> None:
    api.post("/articles", json={"id": "known", "text": TEXT})
    r = api.request(method, template.format(article_id))
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert f"no article with id '{article_id}'" in detail and "POST /articles" in detail
    assert api.get("/articles/known").status_code == 200


@pytest.mark.parametrize(("method", "template"), ID_ROUTES)
@pytest.mark.parametrize("article_id", ["x" * 201, "a%00b", "a%20b", "%F0%9F%92%A9", "a%0A"])
def test_absurd_id_422(
    api: TestClient, redis_client: redis.Redis, method: str, template: str, article_id: str
) -> None:
    r = api.request(method, template.format(article_id))
    assert r.status_code == 422, r.text
    assert "article_id" in r.json()["detail"]
    _nothing_stored(redis_client)


def test_server_stays_up_after_every_bad_request(api: TestClient) -> None:
    for _name, kwargs, _status, _phrase in BODY_CASES:
        assert api.post("/articles", **kwargs).status_code < 500
    r = api.post("/articles", json={"id": "ok", "text": TEXT})
    assert r.status_code == 201
    assert api.get("/articles/ok").json()["text"] == TEXT


def test_every_json_route_refuses_malformed_json(api: TestClient) -> None:
    """Whatever routes exist (aligner, clustering): malformed JSON is a 4xx, never a 5xx."""
    routes = [
        (m, p)
        for p, item in api.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for m, op in item.items()
        if "requestBody" in op
    ]
    assert ("post", "/articles") in routes
    for method, path in routes:
        url = path.replace("{", "").replace("}", "")  # any literal for path parameters
        for content in (b'{"a": ', b"\xff\xfe", b"[]"):
            r = api.request(method.upper(), url, content=content, headers=JSON)
            assert 400 <= r.status_code < 500, (method, path, content, r.status_code, r.text)
            assert isinstance(r.json()["detail"], str) and r.json()["detail"]
