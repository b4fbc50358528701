"""FastAPI dependencies: the index and settings from app state, the API key.

They are ``async def`` because none of them blocks: FastAPI runs a plain
``def`` dependency in its thread pool, and a profile of ``copydesk serve``
showed those hops (a thread woken and the GIL handed over, four times a
request) costing far more than the dependencies' work. The routes themselves
stay ``def``: they call Redis.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.settings import Settings
from service.storage.index import Index


async def get_index(request: Request) -> Index:
    index: Index = request.app.state.index
    return index


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


IndexDep = Annotated[Index, Depends(get_index)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def require_api_key(request: Request, settings: SettingsDep) -> None:
    """When ``COPYDESK_API_KEY`` is set, write and job routes need it.

    Sent as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``; compared in
    constant time.
    """
    if settings.api_key is None:
        return
    given = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    expected = settings.api_key.get_secret_value().encode()
    # Header values arrive decoded as latin-1; encoding back gives the bytes sent,
    # so a UTF-8 key (e.g. with accents) compares equal to the configured one.
    if given is None or not secrets.compare_digest(given.encode("latin-1"), expected):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key: send it as 'X-API-Key: <key>' "
            "or 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _content_type_problem(header: str) -> str | None:
    """Why ``header`` is not ``application/json`` (optionally ``; charset=utf-8``), or None."""
    media, *params = (part.strip() for part in header.split(";"))
    if media.lower() != "application/json":
        return f"got {media or 'no content type'}"
    for param in params:
        name, _, value = param.partition("=")
        name, value = name.strip().lower(), value.strip().strip('"').lower()
        if name != "charset":
            return f"unexpected parameter '{param}'"
        if value not in ("utf-8", "utf8"):
            return f"charset {value or 'empty'}: JSON is UTF-8"
    return None


def _refuse_content_type(why: str) -> HTTPException:
    return HTTPException(
        status_code=415,
        detail="body must be JSON, sent with 'Content-Type: application/json' "
        f"(optionally '; charset=utf-8'), {why}",
    )


async def require_json(request: Request) -> None:
    """415 unless the body is declared as ``application/json`` (charset utf-8 or none).

    Not ``application/*+json`` (``application/evil+json``): a browser form or
    another API's media type is not this API's body.
    """
    why = _content_type_problem(request.headers.get("content-type", ""))
    if why is not None:
        raise _refuse_content_type(why)


async def json_if_body(request: Request) -> None:
    """App-wide: a request that sends a body must declare it as JSON (see ``require_json``).

    Routes whose body is optional (``POST /clusters/jobs``) still take none.
    """
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return
    headers = request.headers
    declared = headers.get("content-length", "0").strip() not in ("", "0")
    if (declared or "transfer-encoding" in headers or "content-type" in headers) and (
        why := _content_type_problem(headers.get("content-type", ""))
    ) is not None:
        raise _refuse_content_type(why)


ApiKey = Depends(require_api_key)
JsonBody = Depends(require_json)
JsonIfBody = Depends(json_if_body)
