"""service.api.schemas: every response model is in the OpenAPI schema, errors are ErrorOut."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api import schemas


def test_every_response_model_is_published(api: TestClient) -> None:
    published = set(api.get("/openapi.json").json()["components"]["schemas"])
    models = {
        name
        for name, value in vars(schemas).items()
        if isinstance(value, type)
        and issubclass(value, schemas.BaseModel)
        and value is not schemas.BaseModel
    }
    assert {"AlignmentOut", "JobOut", "ClustersOut", "MatchesOut", "ErrorOut"} <= models
    assert models <= published


def test_each_error_code_answers_an_error_body() -> None:
    assert {400, 401, 404, 409, 413, 415, 422, 503} == set(schemas.ERRORS)
    assert all(e["model"] is schemas.ErrorOut and e["description"] for e in schemas.ERRORS.values())
