"""Article text from a raw HTML page (trafilatura, a maintained extractor)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_SENTENCE_END = tuple(".!?:;\"'\u201d\u2019)")
#: A line of running text has at least this many words (a menu item has fewer).
_LINK_WORDS = 7


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None


def extract_article(html: str) -> Extracted | None:
    """The main article text and title of ``html``, or None when it has none.

    Extraction is heuristic (trafilatura's boilerplate removal): navigation,
    footers and comments are dropped; a page that is all navigation gives None.
    """
    import trafilatura  # heavy import, needed only for HTML input

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text or _only_links(text):
        return None
    return Extracted(text=text, title=getattr(doc, "title", None) or None)


def _only_links(text: str) -> bool:
    """True when every line is a short unpunctuated label ("Home", "World", "Sport").

    On a page without an article, trafilatura's fallback returns the menu's link
    text; indexing that would store navigation as if it were an article.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return all(
        len(_WORD.findall(line)) < _LINK_WORDS and not line.endswith(_SENTENCE_END)
        for line in lines
    )
