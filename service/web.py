"""What copydesk's HTML pages may link to and run.

- Links: only ``http`` and ``https`` URLs with a host (``is_http_url``). The API
  refuses other ``url`` values, and the templates check again (a
  ``javascript:`` URL stored before the check must never become a link).
- Scripts and styles: the pages inline them from ``service/static`` (a page
  written to a file by ``copydesk align --html`` must work on its own), and
  the ``Content-Security-Policy`` allows exactly those files by their SHA-256
  (``page_policy``): an injected ``<script>`` or ``on...=`` attribute never runs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from markupsafe import Markup

_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")


def is_http_url(value: object) -> bool:
    """True for an absolute ``http``/``https`` URL with a host, and no spaces or controls."""
    if not isinstance(value, str) or _NOT_IN_URL.search(value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(host)


@cache
def static_text(name: str) -> str:
    """The text of ``service/static/<name>``."""
    return resources.files("service").joinpath("static", name).read_text(encoding="utf-8")


def inline(name: str) -> Markup:
    """``service/static/<name>`` to put between ``<style>``/``<script>`` tags, unescaped
    (the file is ours; its hash is in the page policy)."""
    return Markup(static_text(name))


def source_hash(text: str) -> str:
    """The CSP source that allows an inline ``text`` (``'sha256-...'``)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@cache
def _static(suffix: str) -> tuple[str, ...]:
    folder = resources.files("service").joinpath("static")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(suffix))
    return tuple(source_hash(static_text(n)) for n in names)


@cache
def page_policy() -> str:
    """The ``Content-Security-Policy`` of every response: nothing loads but the inline
    scripts and styles of ``service/static`` (by hash); no framing, no forms, no base."""
    scripts = " ".join(_static(".js")) or "'none'"
    styles = " ".join(_static(".css")) or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
