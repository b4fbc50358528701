"""``GET /docs``: Swagger UI served from this server, so it works without internet.

FastAPI's own page loads Swagger UI's script and style from a CDN: on a
newsroom machine without internet access that is a blank page. The
``fastapi-offline`` package ships the same Swagger UI bundle; its files are
served here under ``/docs/assets/`` and the page's policy allows exactly them
(``'self'``) and its one inline script (by hash), nothing from elsewhere.
"""

from __future__ import annotations

import re
from importlib import resources

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from service.web import source_hash

ASSETS = "/docs/assets"
#: The files of the package the page loads, with their media types.
_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def offline_policy(html: str) -> str:
    """The docs page's policy: its bundle and style from this server, its inline
    script by hash, requests (the schema, "Try it out") to this server only."""
    scripts = " ".join(["'self'", *(source_hash(s) for s in _INLINE_SCRIPT.findall(html))])
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def install(app: FastAPI) -> None:
    """Add ``GET /docs`` and its assets to ``app`` (none of them in the schema)."""
    folder = resources.files("fastapi_offline").joinpath("static")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "",
        title=f"{app.title} - API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )
    body = bytes(page.body)
    policy = offline_policy(body.decode())

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"content-security-policy": policy})

    @app.get(ASSETS + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in _FILES:
            raise HTTPException(404, f"no docs asset '{name}'")
        path = folder.joinpath(name)
        return FileResponse(
            str(path),
            media_type=_FILES[name],
            headers={"cache-control": "public, max-age=86400"},
        )
