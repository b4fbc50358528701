"""Security: API key, Redis credentials never shown, no pickle, CORS off by
default, limits on body size and results, escaped pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api import create_app
from service.devservers import free_port
from service.settings import Settings, get_settings
from tests.conftest import ROOT
from tests.service.reliability.conftest import article_text

KEY = "s3cret-key-\u00e9"


@pytest.fixture
def keyed(settings: Settings, redis_client: redis.Redis) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"api_key": SecretStr(KEY)}), client=redis_client)
    with TestClient(app) as client:
        yield client


WRITES = [
    ("POST", "/articles", {"json": {"id": "a", "text": article_text(1)}}),
    ("DELETE", "/articles/a", {}),
]


@pytest.mark.parametrize(("method", "url", "kw"), WRITES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "wrong"},
        {"x-api-key": ""},
        {"authorization": "Bearer wrong"},
        {"authorization": "Basic czNjcmV0"},
        {"x-api-key": "s3cret-key-"},
    ],
    ids=["none", "wrong", "empty", "wrong-bearer", "basic", "prefix"],
)
def test_write_routes_need_the_key(
    keyed: TestClient,
    redis_client: redis.Redis,
    method: str,
    url: str,
    kw: dict[str, object],
    headers: dict[str, str],
) -> None:
    r = keyed.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]
    assert r.status_code == 401
    assert "X-API-Key" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    assert redis_client.hlen("{cd:default}:ids") == 0


def test_key_accepted_both_ways_and_reads_stay_open(keyed: TestClient) -> None:
    body = {"id": "a", "text": article_text(1)}
    key = KEY.encode()  # HTTP headers are bytes: a non-ASCII key is sent as UTF-8
    assert keyed.post("/articles", json=body, headers={"x-api-key": key}).status_code == 201
    assert keyed.get("/articles/a").status_code == 200
    assert keyed.post("/articles/match", json=body).status_code == 200
    r = keyed.delete("/articles/a", headers={"authorization": b"Bearer " + key})
    assert r.status_code == 204


def test_job_routes_need_the_key_when_present(keyed: TestClient) -> None:
    paths = keyed.app.openapi()["paths"]  # type: ignore[attr-defined]
    jobs = [p for p in paths if p.startswith("/clusters/jobs") and "post" in paths[p]]
    if not jobs:
        pytest.skip("no clustering job route in this build (helper 'clustering' adds it)")
    for path in jobs:
        assert keyed.post(path, json={}).status_code == 401


def test_key_compare_is_constant_time() -> None:
    source = (ROOT / "service" / "api" / "deps.py").read_text()
    assert "secrets.compare_digest" in source
    assert not re.search(r"given\s*[!=]=\s*expected", source)


# -- Redis credentials --------------------------------------------------------------------
PASSWORD = "hunter2-Pa55word"


def test_redis_password_never_in_logs_or_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://copydesk:{PASSWORD}@127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = get_settings(redis_url=url, redis_timeout=0.3, data_dir=tmp_path)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    with (
        caplog.at_level(logging.DEBUG),
        TestClient(create_app(settings), raise_server_exceptions=False) as api,
    ):
        responses = [
            api.post("/articles", json={"text": article_text(1)}),
            api.get("/articles/a"),
            api.get("/readyz"),
            api.get("/metrics"),
        ]
    assert [r.status_code for r in responses[:3]] == [503, 503, 503]
    shown = (
        " ".join(r.text for r in responses)
        + caplog.text
        + " ".join(str(r.args) for r in caplog.records)
    )
    captured = capsys.readouterr()
    shown += captured.out + captured.err
    assert "127.0.0.1" in shown  # the messages do name the server ...
    assert PASSWORD not in shown  # ... but never the password
    assert "copydesk:***@" in responses[0].json()["detail"]


def test_redis_password_wrong_is_503_without_the_password(
    tmp_path: Path, redis_server: object, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that wants a password, given a wrong one: 503, password not echoed."""
    from service.devservers import RedisProcess

    server = RedisProcess(tmp_path / "auth", free_port())
    server.start()
    try:
        redis.Redis(port=server.port).config_set("requirepass", "the-real-one")
        url = f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0"
        settings = get_settings(redis_url=url, redis_timeout=0.5, data_dir=tmp_path)
        with (
            caplog.at_level(logging.DEBUG),
            TestClient(create_app(settings), raise_server_exceptions=False) as api,
        ):
            r = api.post("/articles", json={"text": article_text(1)})
            ready = api.get("/readyz")
        assert r.status_code == 503 and ready.status_code == 503, (r.text, ready.text)
        assert PASSWORD not in r.text + ready.text + caplog.text
    finally:
        redis.Redis(port=server.port, password="the-real-one").config_set("requirepass", "")
        server.stop()


# -- no pickle -------------------------------------------------------------------------------
def test_no_pickle_anywhere_in_the_source() -> None:
    pattern = re.compile(r"\b(pickle|cPickle|dill|shelve|marshal\.loads|jsonpickle)\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in ("service", "shingling")
        for path in (ROOT / package).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_stored_values_are_plain_bytes(index: object, redis_client: redis.Redis) -> None:
    from service.model import ArticleIn
    from service.storage.index import Index

    assert isinstance(index, Index)
    index.put(ArticleIn(article_text(1), id="a", title="T"))
    for key in redis_client.scan_iter(match="{cd:default}:*"):
        kind = redis_client.type(key)
        if kind == b"hash":
            values = list(redis_client.hgetall(key).values())
        elif kind == b"string":
            values = [redis_client.get(key)]
        else:
            continue
        for v in values:
            assert not v.startswith(b"\x80"), key  # the pickle protocol 2+ opcode


# -- CORS ----------------------------------------------------------------------------------------
def _preflight(api: TestClient, origin: str) -> dict[str, str]:
    r = api.options(
        "/articles",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    return {k.lower(): v for k, v in r.headers.items()}


def test_cors_off_by_default(api: TestClient) -> None:
    headers = _preflight(api, "https://evil.example")
    assert "access-control-allow-origin" not in headers
    r = api.get("/healthz", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_only_for_configured_origins(settings: Settings, redis_client: redis.Redis) -> None:
    app = create_app(
        settings.model_copy(update={"cors_origins": ["https://newsroom.example"]}),
        client=redis_client,
    )
    with TestClient(app) as api:
        ok = _preflight(api, "https://newsroom.example")
        assert ok["access-control-allow-origin"] == "https://newsroom.example"
        assert "access-control-allow-origin" not in _preflight(api, "https://evil.example")


# -- limits -------------------------------------------------------------------------------------
def test_results_per_query_are_capped(settings: Settings, redis_client: redis.Redis) -> None:
    app = create_app(settings.model_copy(update={"max_results": 3}), client=redis_client)
    text = article_text(7)
    with TestClient(app) as api:
        for i in range(6):
            assert api.post("/articles", json={"id": f"d{i}", "text": text}).status_code in (
                200,
                201,
            )
        for limit in (None, 2, 3, 1000):
            params = {} if limit is None else {"limit": limit}
            r = api.post("/articles/match", json={"text": text}, params=params)
            assert len(r.json()["matches"]) == min(limit or 3, 3)
            r = api.get("/articles/d0/matches", params=params)
            assert len(r.json()["matches"]) == min(limit or 3, 3)
        assert (
            api.post("/articles/match", json={"text": text}, params={"limit": 1001}).status_code
            == 422
        )


def test_body_limit_is_a_setting(settings: Settings, redis_client: redis.Redis) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 10_000}), client=redis_client)
    with TestClient(app) as api:
        r = api.post("/articles", json={"text": "word " * 3000})
        assert r.status_code == 413
        assert redis_client.hlen("{cd:default}:ids") == 0


# -- pages escape article text --------------------------------------------------------------------
EVIL = '<script>alert("x")</script> He said "hi" onmouseover=\'alert(1)\' & <b>bold</b>. '


def test_alignment_view_escapes_article_text(api: TestClient) -> None:
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    view = "/alignments/{a_id}/{b_id}/view"
    if view not in paths:
        pytest.skip("no alignment view in this build (helper 'aligner' adds it)")
    text = EVIL * 3 + article_text(5)
    for article_id in ("a", "b"):
        assert api.post("/articles", json={"id": article_id, "text": text}).status_code in (
            200,
            201,
        )
    r = api.get("/alignments/a/b/view")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "<script>alert" not in r.text
    assert "<b>bold</b>" not in r.text
    assert "onmouseover='alert" not in r.text
    assert "&lt;script&gt;" in r.text


# -- links: http(s) only; the page policy ---------------------------------------------------------
SCRIPT_URLS = [
    "javascript:alert(document.domain)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/a",
    "",
]


@pytest.mark.parametrize("url", SCRIPT_URLS, ids=repr)
@pytest.mark.parametrize("route", ["/articles", "/articles/match"])
def test_url_must_be_http_or_https(
    api: TestClient, redis_client: redis.Redis, route: str, url: str
) -> None:
    r = api.post(route, json={"id": "x", "text": article_text(1), "url": url})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("url: ")
    assert ("http://" in detail and "javascript:" in detail) or "is empty" in detail, detail
    assert redis_client.hlen("{cd:default}:ids") == 0


def _inline(page: str) -> tuple[list[str], list[str]]:
    return re.findall(r"<script>(.*?)</script>", page, re.S), re.findall(
        r"<style>(.*?)</style>", page, re.S
    )


def _source_hash(text: str) -> str:
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_page_never_links_a_stored_script_url(api: TestClient, index: object) -> None:
    """Data stored before the API checked urls still never becomes an href."""
    from service.model import ArticleIn
    from service.storage.index import Index

    assert isinstance(index, Index)
    index.put(ArticleIn(article_text(5), id="a", url="javascript:alert(document.domain)"))
    index.put(ArticleIn(article_text(5), id="b", url="https://example.com/b?x=1&y=2"))
    r = api.get("/alignments/a/b/view")
    assert r.status_code == 200
    hrefs = re.findall(r'href="([^"]*)"', r.text)
    assert "https://example.com/b?x=1&amp;y=2" in hrefs
    # anchors, the stored https url, and this server's own pages (never "//host")
    assert all(
        h.startswith(("#", "https://")) or (h.startswith("/") and not h.startswith("//"))
        for h in hrefs
    ), hrefs
    assert "javascript:" not in r.text


def test_alignment_page_runs_only_its_hashed_script_and_style(api: TestClient) -> None:
    for article_id in ("a", "b"):
        api.post("/articles", json={"id": article_id, "text": EVIL + article_text(5)})
    r = api.get("/alignments/a/b/view")
    policy = r.headers["content-security-policy"]
    scripts, styles = _inline(r.text)
    assert scripts and styles
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"].split() == [_source_hash(s) for s in scripts]
    assert directives["style-src"].split() == [_source_hash(s) for s in styles]
    assert "unsafe-inline" not in policy
    # Nothing the policy would block silently: no event-handler or style attributes,
    # no other script elements.
    assert not re.search(r"<[^>]+\s(on[a-z]+|style)\s*=", r.text)
    assert r.text.count("<script") == len(scripts)


def test_templates_inline_code_only_from_static_files() -> None:
    for path in (ROOT / "service" / "templates").glob("*.html"):
        page = path.read_text()
        for block in re.findall(r"<(?:script|style)[^>]*>(.*?)</(?:script|style)>", page, re.S):
            assert re.fullmatch(r"\{\{ assets\.\w+ \}\}", block), (path.name, block[:60])
        assert not re.search(r"<(?:script|link)[^>]+(?:src|href)=", page), path.name
        assert not re.search(r"<[^>]+\s(on[a-z]+|style)\s*=", page), path.name


def test_every_answer_sends_the_security_headers(api: TestClient) -> None:
    api.post("/articles", json={"id": "a", "text": article_text(5)})
    answers = {
        "view": api.get("/alignments/a/a/view"),
        "view 404 (HTML)": api.get("/alignments/a/nope/view"),
        "docs": api.get("/docs"),
        "json": api.get("/articles/a"),
        "json 404": api.get("/articles/nope"),
        "unknown path": api.get("/nowhere"),
        "405": api.put("/articles/a"),
        "422": api.post("/articles", json={"text": ""}),
        "413 (middleware)": api.post(
            "/articles", content=b"x", headers={"content-length": "9" * 12}
        ),
        "metrics": api.get("/metrics"),
    }
    for name, r in answers.items():
        assert r.headers.get("x-content-type-options") == "nosniff", name
        assert r.headers.get("referrer-policy") == "no-referrer", name
        policy = r.headers.get("content-security-policy", "")
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, name
    docs = answers["docs"]
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    scripts, _ = _inline(docs.text)
    docs_policy = docs.headers["content-security-policy"]
    assert scripts and all(_source_hash(s) in docs_policy for s in scripts)
    assert "unsafe-inline" not in docs_policy
