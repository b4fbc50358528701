"""service.api.offline_docs: Swagger UI at /docs from a package, never a CDN."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css"])
def test_docs_load_swagger_ui_from_this_server(api: TestClient, name: str) -> None:
    docs = api.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and f"/docs/assets/{name}" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "http" not in policy
    asset = api.get(f"/docs/assets/{name}")
    assert asset.status_code == 200 and len(asset.content) > 50_000
    assert api.get("/docs/assets/..%2Fcore.py").status_code == 404
