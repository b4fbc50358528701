"""The schema (/openapi.json) and the behaviour agree: types as strict as the
schema says, empty strings refused exactly where the schema has ``minLength``,
405 with ``Allow``, an HTML route's errors in HTML, no redirects, ids in NFKC,
JSON bodies only as ``application/json``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from tests.service.reliability.conftest import article_text

TEXT = article_text(1)
JSON_POSTS = ["/articles", "/articles/match", "/alignments", "/clusters/jobs"]


def _schema(api: TestClient) -> dict[str, Any]:
    return api.get("/openapi.json").json()  # type: ignore[no-any-return]


def _body_properties(api: TestClient, path: str) -> dict[str, dict[str, Any]]:
    """The properties of ``POST path``'s JSON body, each as its non-null alternative."""
    schema = _schema(api)
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for alt in body.get("anyOf", [body]):
        if "$ref" in alt:
            body = schema["components"]["schemas"][alt["$ref"].rsplit("/", 1)[1]]
    props = {}
    for name, prop in body["properties"].items():
        alts = [a for a in prop.get("anyOf", [prop]) if a.get("type") != "null"]
        props[name] = {**alts[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    return props


def _base(path: str, field: str) -> dict[str, Any]:
    """A valid body of ``POST path`` to put ``field`` in (``/clusters/jobs``: none is
    sent valid, so no job starts)."""
    if path == "/alignments":
        return {"a": TEXT, "b": TEXT}
    if path.startswith("/articles"):
        return {} if field in ("text", "html") else {"text": TEXT}
    return {}


def _post(api: TestClient, path: str, body: dict[str, Any]) -> Any:
    if path == "/articles":
        body = {"id": "contract", **body} if "id" not in body else body
    return api.post(path, json=body)


# -- types as strict as the schema ------------------------------------------------------------
WRONG_TYPES: dict[str, list[Any]] = {
    "string": [0, False, 1.5, [], {}],
    # 3.0 is not here: JSON Schema's integer is any number without a fraction, 3.0 is 3.
    "integer": [False, True, "3", 3.5],
    "number": [False, True, "0.5"],
}


@pytest.mark.parametrize("path", JSON_POSTS)
def test_every_field_refuses_values_of_another_json_type(
    api: TestClient, redis_client: redis.Redis, path: str
) -> None:
    tried = 0
    for name, prop in _body_properties(api, path).items():
        for wrong in WRONG_TYPES.get(prop.get("type", ""), []):
            r = _post(api, path, {**_base(path, name), name: wrong})
            assert r.status_code == 422, (path, name, wrong, r.text)
            assert name in r.json()["detail"], r.text
            tried += 1
    assert tried
    assert redis_client.hlen("{cd:default}:ids") == 0
    assert not list(redis_client.scan_iter(match="*job*"))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/articles", "published_at"),
        ("/articles/match", "published_at"),
        ("/clusters/jobs", "since"),
        ("/clusters/jobs", "until"),
    ],
)
@pytest.mark.parametrize("wrong", [0, 1730383500, False, 1.5])
def test_times_are_strings(api: TestClient, path: str, field: str, wrong: Any) -> None:
    r = _post(api, path, {**_base(path, field), field: wrong})
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"{field}: must be an ISO 8601 string")


def test_the_published_at_string_is_still_taken(api: TestClient) -> None:
    r = api.post("/articles/match", json={"text": TEXT, "published_at": "2024-10-31T14:05:00Z"})
    assert r.status_code == 200, r.text


# -- empty strings: refused exactly where the schema says minLength ---------------------------
def _refuses_empty(prop: dict[str, Any]) -> bool:
    if prop.get("minLength", 0) >= 1 or "enum" in prop or "const" in prop or "format" in prop:
        return True
    return "pattern" in prop and re.search(prop["pattern"], "") is None


@pytest.mark.parametrize("path", JSON_POSTS)
def test_empty_strings_refused_exactly_where_the_schema_says(api: TestClient, path: str) -> None:
    seen = 0
    for name, prop in _body_properties(api, path).items():
        if prop.get("type") != "string":
            continue
        seen += 1
        r = _post(api, path, {**_base(path, name), name: ""})
        if _refuses_empty(prop):
            assert r.status_code == 422, (path, name, r.text)
            assert r.json()["detail"].startswith(f"{name}: "), r.text
        else:
            assert r.status_code < 300, (path, name, r.text)
    assert seen


def test_fields_that_refuse_empty_say_so_in_the_schema(api: TestClient) -> None:
    for path, names in (("/articles", ["id", "text", "html", "url"]), ("/alignments", ["a", "b"])):
        props = _body_properties(api, path)
        for name in names:
            assert props[name]["minLength"] == 1, (path, name)


# -- 405 names every allowed method --------------------------------------------------------
def test_405_has_allow_with_every_method_of_the_path(api: TestClient) -> None:
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE"}
    paths = _schema(api)["paths"]
    for template in paths:
        path = re.sub(r"\{[^}]+\}", "x", template)
        # The templates the path fits with the fewest parameters (OpenAPI matches a
        # concrete path first): /articles/match is POST, not also /articles/{article_id}.
        fits = [o for o in paths if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", o), path)]
        fewest = min(o.count("{") for o in fits)
        documented = {m.upper() for o in fits if o.count("{") == fewest for m in paths[o]}
        served = {m.upper() for o in fits for m in paths[o]}  # GET /articles/match is an id
        for method in sorted(methods - served):
            r = api.request(method, path)
            assert r.status_code == 405, (method, path)
            assert set(r.headers["allow"].split(", ")) == documented, (method, path)
            assert r.headers["allow"] in r.text  # the detail names them too (JSON or HTML)


# -- an HTML route answers its errors in HTML ----------------------------------------------
def test_view_404_is_an_escaped_html_page(api: TestClient) -> None:
    view = _schema(api)["paths"]["/alignments/{a_id}/{b_id}/view"]["get"]
    assert set(view["responses"]["404"]["content"]) == {"text/html"}
    api.post("/articles", json={"id": "b", "text": TEXT})
    r = api.get("/alignments/<img src=x onerror=alert(1)>/b/view")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "<img" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert r.text.lstrip().startswith("<!DOCTYPE html>")
    assert "content-security-policy" in r.headers


# -- no redirects ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/articles/%2F", "/articles/", "/articles/a/", "/healthz/", "/alignments/a/b/view/"]
)
def test_no_redirect_for_a_trailing_slash(api: TestClient, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        r = api.request(method, path, follow_redirects=False)
        assert r.status_code in (404, 422), (method, path, r.status_code)
        assert "location" not in r.headers
        assert "detail" in r.json()


# -- ids in NFKC --------------------------------------------------------------------------------
def test_ids_are_nfkc_normalised(api: TestClient) -> None:
    r = api.post("/articles", json={"id": "\ufb01le", "text": TEXT})  # the ligature "fi"
    assert (r.status_code, r.json()["id"]) == (201, "file")
    again = api.post("/articles", json={"id": "\uff46\uff49\uff4c\uff45", "text": TEXT})
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")  # fullwidth
    for spelling in ("file", "\ufb01le", "\uff46ile"):
        assert api.get(f"/articles/{spelling}").json()["id"] == "file", spelling
        assert api.get(f"/articles/{spelling}/matches").status_code == 200
        assert api.get(f"/alignments/{spelling}/file").status_code == 200
        assert api.get(f"/alignments/file/{spelling}/view").status_code == 200
    assert api.delete("/articles/\ufb01le").status_code == 204
    assert api.get("/articles/file").status_code == 404


# -- JSON only as application/json ----------------------------------------------------------------
REFUSED_TYPES = [
    "application/evil+json",
    "application/vnd.api+json",
    "application/jsonx",
    "application/json; charset=latin-1",
    "application/json; boundary=x",
    "text/json",
    "text/plain",
]
TAKEN_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    'Application/JSON; charset="UTF-8"',
]


@pytest.mark.parametrize("path", JSON_POSTS)
@pytest.mark.parametrize("ctype", REFUSED_TYPES)
def test_other_content_types_are_415(
    api: TestClient, redis_client: redis.Redis, path: str, ctype: str
) -> None:
    body = json.dumps({"text": TEXT, "a": TEXT, "b": TEXT} if path != "/clusters/jobs" else {})
    if path.startswith("/articles"):
        body = json.dumps({"text": TEXT})
    r = api.post(path, content=body.encode(), headers={"content-type": ctype})
    assert r.status_code == 415, r.text
    assert "application/json" in r.json()["detail"]
    assert redis_client.hlen("{cd:default}:ids") == 0
    assert not list(redis_client.scan_iter(match="*job*"))


@pytest.mark.parametrize("path", JSON_POSTS)
@pytest.mark.parametrize("ctype", TAKEN_TYPES)
def test_application_json_with_utf8_charset_is_taken(
    api: TestClient, path: str, ctype: str
) -> None:
    # A bad field: a 422 naming it shows the body was read as JSON (and no job starts).
    r = api.post(path, content=b'{"verify": "nonsense"}', headers={"content-type": ctype})
    assert r.status_code == 422, r.text
    assert "verify: " in r.json()["detail"]


def test_a_job_may_still_be_started_without_a_body(api: TestClient) -> None:
    r = api.post("/clusters/jobs")
    assert r.status_code == 202, r.text
