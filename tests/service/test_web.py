"""service.web: which URLs may become links, and the hashes of the inline assets."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from service.web import is_http_url, page_policy, source_hash, static_text

GOOD = [
    "http://example.com",
    "https://example.com/world/blinken?x=1#top",
    "HTTPS://EXAMPLE.COM/",
    "https://[2001:db8::1]:8443/a",
    "http://127.0.0.1:8000/articles/a",
]
BAD = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/a",
    "//example.com/a",  # scheme-relative: the scheme is the page's, not checked
    "/articles/a",
    "example.com",
    "http:example.com",
    "http:///path-only",
    "https://exa mple.com/",
    "https://[::1/",  # unclosed bracket: urlsplit raises
    "",
    None,
    42,
]


@pytest.mark.parametrize("url", GOOD)
def test_http_urls_may_be_links(url: str) -> None:
    assert is_http_url(url)


@pytest.mark.parametrize("url", BAD, ids=repr)
def test_other_urls_may_not(url: object) -> None:
    assert not is_http_url(url)


def test_page_policy_allows_each_static_asset_by_its_hash_and_nothing_inline() -> None:
    policy = page_policy()
    for name in ("alignment.css", "alignment.js"):
        digest = hashlib.sha256(static_text(name).encode()).digest()
        assert f"'sha256-{base64.b64encode(digest).decode()}'" in policy
        assert source_hash(static_text(name)) in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.search(r"default-src 'none'", policy)
    assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
