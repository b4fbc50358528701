"""The FastAPI application, built by ``create_app(settings)``.

Redis is opened in the lifespan (embedded or external, see ``service.storage.server``),
never at import time; tests pass their own client in.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import redis
from fastapi import FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException
from starlette.routing import Match

from service import pages, retention
from service.alignment_view import render_error
from service.api import offline_docs
from service.api.deps import JsonIfBody
from service.api.middleware import BodyLimit, Observe, SecurityHeaders
from service.api.routes import alignments, articles, clusters, ops
from service.jobs.store import JobStore
from service.model import ConfigMismatch, Contention, MatchesUnavailable
from service.settings import Settings
from service.storage import redis_errors
from service.storage.index import Index
from service.storage.server import StoreUnavailable, describe, open_redis
from service.web import page_policy
from shingling.pipeline import warm_up
from shingling.semantic import embed

log = logging.getLogger("copydesk.api")


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    articles: Gauge


def _metrics() -> Metrics:
    reg = CollectorRegistry()
    return Metrics(
        registry=reg,
        requests=Counter(
            "copydesk_requests", "HTTP requests", ["method", "route", "status"], registry=reg
        ),
        latency=Histogram(
            "copydesk_request_seconds", "HTTP request latency", ["method", "route"], registry=reg
        ),
        articles=Gauge("copydesk_articles", "Articles in the index", registry=reg),
    )


def _shown(value: object, most: int = 60) -> str:
    """A refused value as the message quotes it: repr, cut to ``most`` characters."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 4] + "...'"


def _validation_detail(exc: RequestValidationError) -> tuple[int, str]:
    from service.intake import ID_PATTERN, ID_RULE, TIME_EXAMPLE

    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx: dict[str, object] = next(
            (e.get("ctx", {}) for e in errors if e.get("type") == "json_invalid"), {}
        )
        return 400, f"body is not valid JSON ({ctx.get('error', 'parse error')}); fix the JSON"
    parts, missing = [], False
    for e in errors:
        where = list(e.get("loc", ()))
        if where[:1] == ["body"]:  # only the leading "body": a field may be named so
            where = where[1:]
        loc = ".".join(str(p) for p in where)
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        kind, given = e.get("type", ""), _shown(e.get("input"))
        if kind == "missing":
            parts.append("the request body is required" if not where else f"`{loc}` is required")
            missing = True
            continue
        if kind.startswith("datetime_") or kind.startswith("date_"):
            why = msg.partition(", ")[2]
            msg = f"must be an ISO 8601 date-time such as {TIME_EXAMPLE}, not {given}"
            msg += f" ({why})" if "range" in why or "outside" in why else ""
        elif kind == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == ID_PATTERN:
            msg = f"an id is {ID_RULE}; {given} is not"
        elif kind == "int_parsing":
            msg = f"must be a whole number, not {given}"
        elif kind == "extra_forbidden":
            msg = "unknown field; remove it (see the schema at /docs)"
        elif e.get("type") == "string_too_short" and e.get("ctx", {}).get("min_length") == 1:
            msg = "is empty; send a non-empty string (or leave the field out if optional)"
        elif e.get("type") == "string_unicode":  # checked before min_length/pattern can count
            msg = "contains a lone UTF-16 surrogate, which is not text; send valid Unicode text"
        msg = msg.replace("Input should be ", "must be ", 1)
        parts.append(f"{loc}: {msg}" if loc else msg)
    hint = "; see the schema at /docs" if missing else ""
    return 422, ("; ".join(parts) or "invalid request") + hint


def _warm(index: Index, settings: Settings) -> None:
    """Compile the text kernels and load the pair model's weights before the
    first request, so that it does not wait for them."""
    started = time.monotonic()
    warm_up(index.config)
    if (took := time.monotonic() - started) > 2:
        log.info("compiled the text kernels in %.0f s (once per install)", took)
    if settings.semantic:
        started = time.monotonic()
        embed(["copydesk"])
        log.info(
            "loaded the semantic pair model in %.1f s (COPYDESK_SEMANTIC=0: lexical only)",
            time.monotonic() - started,
        )


def create_app(settings: Settings, *, client: redis.Redis | None = None) -> FastAPI:
    """The API for ``settings``; with ``client``, use that Redis instead of opening one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            conn = client if client is not None else stack.enter_context(open_redis(settings))
            app.state.index = Index.from_settings(conn, settings)
            try:
                app.state.index.check_config()  # ConfigMismatch stops the start-up
                # A clustering job left 'running' by a previous process reads 'failed'.
                reaped = JobStore(conn, app.state.index.keys).sweep()
                if reaped:
                    log.warning("clustering jobs interrupted by a restart, now failed: %s", reaped)
            except redis.RedisError as exc:
                log.warning(
                    "%s not ready at start-up (%s); /readyz will say when it is",
                    describe(settings),
                    exc,
                )
            stack.enter_context(retention.running(app.state.index, settings.retention_days))
            _warm(app.state.index, settings)
            log.info("copydesk ready on %s, index '%s'", describe(settings), settings.index)
            yield

    app = FastAPI(
        title="copydesk",
        version="0.1.0",
        summary="Find articles that rework the same wire copy, and show what was copied.",
        lifespan=lifespan,
        # '/articles/%2F' is '/articles/': a 404, not a redirect to POST /articles.
        redirect_slashes=False,
        # Swagger UI is served by offline_docs with its own Content-Security-Policy; no ReDoc.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=[JsonIfBody],
    )
    app.state.settings = settings
    app.state.metrics = _metrics()
    # Every resource router of the API, in the order they appear in /docs.
    for router in (articles.router, ops.router, clusters.router, alignments.router):
        app.include_router(router)
    offline_docs.install(app)  # Swagger UI from a package, not a CDN
    pages.install(app)  # the editor UI: server-rendered pages
    _html_errors_in_schema(app)
    _install_handlers(app, settings)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["content-type", "x-api-key", "authorization"],
        )
    app.add_middleware(SecurityHeaders, policy=page_policy())  # outermost: every answer
    return app


def _is_html(route: object) -> bool:
    """Whether ``route`` answers HTML (``response_class=HTMLResponse``)."""
    cls = getattr(route, "response_class", None)
    if isinstance(cls, DefaultPlaceholder):
        cls = cls.value
    return isinstance(cls, type) and issubclass(cls, HTMLResponse)


def _html_errors_in_schema(app: FastAPI) -> None:
    """In /openapi.json, the errors of an HTML route (one whose 200 is text/html) are
    HTML pages, as they are answered (see ``_error``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
                if "text/html" not in responses.get("200", {}).get("content", {}):
                    continue
                for code, response in responses.items():
                    if code[:1] in ("4", "5"):
                        response["content"] = {"text/html": {"schema": {"type": "string"}}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


#: FastAPI's detail when the body is not decodable at all (not UTF-8, nested too
#: deep, a number too long): it does not say what to fix, so it is replaced.
_UNPARSED = "There was an error parsing the body"


def _unparsed_detail(exc: BaseException) -> str:
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        why = f"it is not UTF-8: byte {cause.start} is not valid"
    elif isinstance(cause, RecursionError):
        why = "it is nested too deeply"
    elif cause is not None:
        why = str(cause).split("\n")[0][:200] or type(cause).__name__
    else:
        why = "parse error"
    return f"body could not be read as JSON ({why}); send UTF-8 encoded JSON"


def _error(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An error answer: ``{"detail": ...}``, or an HTML page on an HTML route."""
    if _is_html(request.scope.get("route")):
        return HTMLResponse(render_error(status, detail), status_code=status, headers=headers)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> list[str]:
    """The methods the request's path has in the schema. As OpenAPI matches a
    concrete path before a templated one, only the fitting templates with the
    fewest parameters count: ``/articles/match`` is POST, not also
    ``/articles/{article_id}``. A path the schema lacks (``/docs``): every method
    some route serves there, asked of each route by ``matches`` (Starlette names
    only the first route that matches the path)."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    path = request.url.path
    fits = [t for t in paths if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)]
    if fits:
        fewest = min(t.count("{") for t in fits)
        named = {m.upper() for t in fits if t.count("{") == fewest for m in paths[t]}
        return [method for method in _METHODS if method in named]
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


def _install_handlers(app: FastAPI, settings: Settings) -> None:
    """Error answers that say what to fix, and the request metrics."""

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == _UNPARSED:
            return JSONResponse({"detail": _unparsed_detail(exc)}, status_code=400)
        if exc.status_code == 405:
            allow = _allowed(request) or ["GET"]
            return _error(
                request,
                405,
                f"{request.method} is not allowed on {request.url.path}; use {', '.join(allow)}",
                {"Allow": ", ".join(allow)},
            )
        if _is_html(request.scope.get("route")):
            return _error(request, exc.status_code, str(exc.detail), exc.headers)
        response = await http_exception_handler(request, exc)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status, detail = _validation_detail(exc)
        return _error(request, status, detail)

    _install_store_handlers(app, settings)
    metrics: Metrics = app.state.metrics
    app.add_middleware(Observe, requests=metrics.requests, latency=metrics.latency)


def _install_store_handlers(app: FastAPI, settings: Settings) -> None:
    """Answers for what Redis and the index refuse: 503 (409 for contention)."""

    # Connection loss, and every refusal a client cannot fix (OOM, MISCONF,
    # READONLY, BUSY, LOADING, NOPERM, ...): 503 saying what the operator should do.
    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    @app.exception_handler(redis.ResponseError)
    @app.exception_handler(redis.exceptions.RedisClusterException)
    async def _redis_refused(request: Request, exc: redis_errors.Failure) -> Response:
        refusal = redis_errors.classify(exc)
        if refusal.code == "OTHER":  # maybe a copydesk bug: the whole error, once
            log.error("%s refused a command: %.500s", describe(settings), exc, exc_info=exc)
        elif refusal.code == "CONNECTION":
            log.warning("%s unavailable: %s", describe(settings), type(exc).__name__)
        else:  # the class only: a refused command's message may quote its arguments
            log.warning("%s refused a command: %s", describe(settings), refusal.code)
        headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else None
        return _error(
            request, refusal.status, redis_errors.detail(exc, describe(settings)), headers
        )

    @app.exception_handler(MatchesUnavailable)
    async def _stored_unmatched(request: Request, exc: MatchesUnavailable) -> Response:
        # The write landed in its partition; another partition did not answer the query.
        log.warning("%s: a partition did not answer (%s)", exc, type(exc.cause).__name__)
        cause = cast(redis_errors.Failure, exc.cause)  # the index raises it for Redis failures
        refusal = redis_errors.classify(cause)
        said = redis_errors.detail(cause, describe(settings), request=False)
        return _error(
            request,
            503,
            f"{exc}: {said} Send the article again to get its matches (it will be 'unchanged').",
            {"Retry-After": str(refusal.retry_after or 5)},
        )

    @app.exception_handler(Contention)
    async def _contended(request: Request, exc: Contention) -> Response:
        # Other clients kept replacing this id: theirs won, this one may retry.
        log.info("409 for %r: writers raced for it", exc.article_id)
        return _error(request, 409, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(ConfigMismatch)
    @app.exception_handler(StoreUnavailable)
    async def _misconfigured(request: Request, exc: Exception) -> Response:
        return _error(request, 503, str(exc))
