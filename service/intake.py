"""From a request body to the article the index stores (shared by API and CLI)."""

from __future__ import annotations

from service.api.schemas import ArticleBody
from service.extract import extract_article
from service.index import ArticleIn


class Rejected(ValueError):
    """The body cannot be indexed; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def prepare(body: ArticleBody, *, max_text_chars: int) -> ArticleIn:
    """The article to index: the text as sent, or extracted from ``html``."""
    title = body.title
    if body.html is not None:
        extracted = extract_article(body.html)
        if extracted is None:
            raise Rejected(
                422, "no article text could be extracted from `html`; send the text as `text`"
            )
        text, title = extracted.text, title or extracted.title
    else:
        text = body.text or ""
    if len(text) > max_text_chars:
        raise Rejected(
            413,
            f"text is {len(text)} characters; the limit is {max_text_chars} "
            "(COPYDESK_MAX_TEXT_CHARS)",
        )
    return ArticleIn(
        text=text,
        id=body.id,
        title=title,
        source=body.source,
        url=body.url,
        published_at=body.published_at,
    )
