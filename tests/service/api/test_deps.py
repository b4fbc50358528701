"""service.api.deps: the API key, and bodies declared as JSON."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api import create_app
from service.api.deps import _content_type_problem
from service.settings import Settings

TEXT = "A wire story about the harbour terminal that opened on Monday after six years."


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("application/json", None),
        ("Application/JSON; charset=UTF-8", None),
        ('application/json; charset="utf8"', None),
        ("", "got no content type"),
        ("text/plain", "got text/plain"),
        ("application/evil+json", "got application/evil+json"),
        ("application/json; charset=latin-1", "charset latin-1: JSON is UTF-8"),
        ("application/json; boundary=x", "unexpected parameter 'boundary=x'"),
    ],
)
def test_only_json_in_utf8_is_a_json_body(header: str, why: str | None) -> None:
    assert _content_type_problem(header) == why


def test_a_set_api_key_is_needed_to_write_in_either_header(
    settings: Settings, redis_client: redis.Redis
) -> None:
    key = "sésame"  # not ASCII: compared as the UTF-8 bytes sent
    locked = settings.model_copy(update={"api_key": SecretStr(key)})
    with TestClient(create_app(locked, client=redis_client)) as client:
        body = {"id": "k1", "text": TEXT}
        refused = client.post("/articles", json=body)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        wrong = client.post("/articles", json=body, headers={"X-API-Key": "open"})
        assert wrong.status_code == 401
        raw = key.encode()  # the UTF-8 bytes a client sends
        assert client.post("/articles", json=body, headers={"X-API-Key": raw}).status_code == 201
        bearer = {"Authorization": b"Bearer " + raw}
        assert client.post("/articles", json=body | {"id": "k2"}, headers=bearer).status_code == 201
        assert client.get("/articles/k1").status_code == 200  # reads need no key


def test_a_body_that_is_not_json_is_415(api: TestClient) -> None:
    r = api.post("/articles", content=b"text=hello", headers={"content-type": "text/plain"})
    assert r.status_code == 415
