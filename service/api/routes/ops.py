"""Operations: liveness, readiness, metrics."""

from __future__ import annotations

import contextlib

import redis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from service.model import ConfigMismatch
from service.storage import redis_errors
from service.storage.server import describe

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Redis reachable and index config matches")
def readyz(request: Request) -> Response:
    index = request.app.state.index
    settings = request.app.state.settings
    try:
        index.client.ping()
        index.check_config()
    except ConfigMismatch as exc:
        return JSONResponse({"status": "unready", "detail": str(exc)}, status_code=503)
    except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as exc:
        if redis_errors.code_of(exc) == "CONNECTION":
            detail = (
                f"{describe(settings)} is unreachable ({type(exc).__name__}); "
                "check that it is running and COPYDESK_REDIS_URL"
            )
        else:  # LOADING, NOPERM, a wrong password, ...: what to do about it
            detail = redis_errors.detail(exc, describe(settings), request=False)
        return JSONResponse({"status": "unready", "detail": detail}, status_code=503)
    return JSONResponse(
        {"status": "ready", "articles": index.count(), "fingerprint": index.config.fingerprint}
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    metrics_state = request.app.state.metrics
    # While Redis is away the article gauge keeps its last value.
    with contextlib.suppress(redis.RedisError):
        metrics_state.articles.set(request.app.state.index.count())
    return Response(generate_latest(metrics_state.registry), media_type=CONTENT_TYPE_LATEST)
