"""service.api.routes.ops: liveness, readiness and metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_and_ready(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert "copydesk_requests" in api.get("/metrics").text
