"""Article text from a raw HTML page (trafilatura, a maintained extractor)."""

from __future__ import annotations

from dataclasses import dataclass


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
    if not text:
        return None
    return Extracted(text=text, title=getattr(doc, "title", None) or None)
