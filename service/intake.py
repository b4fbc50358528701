"""What a caller sends, checked, and the article the index stores from it.

``ArticleBody`` is one article as the API's JSON body, a form of the pages or
a record of ``copydesk ingest`` gives it (pydantic: its errors name the field
to fix); ``to_article`` turns it into the ``ArticleIn`` the index writes. Shared
by the API, the pages and the CLI, so none of them reaches into another.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.extract import extract_article
from service.model import ArticleIn
from service.web import is_http_url
from shingling.normalise import scrub_controls

ID_PATTERN = r"^[\w.:@~+=\-]{1,200}$"
#: ``ID_PATTERN`` in words, for error messages.
ID_RULE = "1-200 letters, digits or . : @ ~ + = - _ (no spaces, slashes or control characters)"
#: What a time must look like, for error messages.
TIME_EXAMPLE = "2024-05-01T12:00:00Z"


#: What a ``url`` must look like: ``http://`` or ``https://``, a host, an optional port,
#: then anything without spaces or control characters. The schema carries it, and the
#: API refuses what it does not match (every match is also ``is_http_url``).
URL_PATTERN = (
    r"^https?://[^\s\x00-\x1f\x7f/?#@:\[\]\\]+(?::[0-9]{1,5})?(?:[/?#][^\s\x00-\x1f\x7f]*)?\Z"
)


def normalise_id(value: object) -> object:
    """An id in Unicode NFKC (the ligature U+FB01 is ``fi``), before its pattern is checked:
    ids that look the same are the same id, in bodies and paths alike."""
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def timestamp_string(value: object) -> object:
    """Refuse a time that is not a string, as the schema says (``format: date-time``):
    lax pydantic would take ``0`` or ``false`` as 1970-01-01."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError(
            f"must be an ISO 8601 string such as 2024-10-31T14:05:00Z, not {type(value).__name__}"
        )
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value):
        # Lax pydantic reads '2024' or '1730383500' as seconds since 1970.
        raise ValueError(
            f"must be an ISO 8601 string such as {TIME_EXAMPLE}, not a number ({value!r})"
        )
    return value


_BAD_CHARS = re.compile(r"[\ud800-\udfff]")

_EXAMPLE_TEXT = (
    "US Secretary of State Anthony Blinken on Thursday revealed that approximately 10,000 "
    "North Korean soldiers are currently in Russia, with around 8,000 deployed in the Kursk region."
)


def check_unicode(value: str, name: str) -> None:
    """Refuse a lone surrogate (text that cannot be decoded at all) in ``value``.

    NULs and other control characters are not refused: scraped pages carry
    them, and ``scrub_controls`` turns them into spaces (offsets kept).
    """
    bad = _BAD_CHARS.search(value)
    if bad:
        raise ValueError(
            f"{name} contains a lone UTF-16 surrogate at character {bad.start()}, which is "
            "not text; send valid Unicode (UTF-8) text"
        )


class ArticleBody(BaseModel):
    """An article to index or match: ``text``, or ``html`` to extract it from."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # Exactly one of the two, as a string (``_text_or_html`` refuses both or neither).
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["html"], "properties": {"html": {"type": "string"}}},
            ],
            "examples": [
                {
                    "id": "ani-2024-10-31-blinken",
                    "text": _EXAMPLE_TEXT,
                    "title": "10,000 North Korean soldiers in Russia, says Blinken",
                    "source": "ANI",
                    "url": "https://example.com/world/blinken-north-korea",
                    "published_at": "2024-10-31T14:05:00Z",
                }
            ],
        },
    )

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=ID_PATTERN,
        description="Client id: 1-200 letters, digits or . : @ ~ + = - _ (generated if absent), "
        "taken in Unicode NFKC form.",
    )
    # pattern: at least one character that is not a space (refused otherwise).
    text: str | None = Field(
        default=None,
        min_length=1,
        json_schema_extra={"pattern": r"\S"},
        description="Plain article text.",
    )
    html: str | None = Field(
        default=None,
        min_length=1,
        json_schema_extra={"pattern": r"\S"},
        description="Raw HTML page; the article is extracted.",
    )
    title: str | None = Field(default=None, max_length=1000)
    source: str | None = Field(default=None, max_length=200, description="Outlet name.")
    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        json_schema_extra={"pattern": URL_PATTERN},
        description="Address of the original: an absolute http:// or https:// URL.",
    )
    published_at: datetime | None = Field(
        default=None, description="ISO 8601 timestamp (a string, e.g. 2024-10-31T14:05:00Z)."
    )

    @field_validator("id", mode="before")
    @classmethod
    def _nfkc_id(cls, v: object) -> object:
        return normalise_id(v)

    @field_validator("published_at", mode="before")
    @classmethod
    def _timestamp_string(cls, v: object) -> object:
        return timestamp_string(v)

    @field_validator("text", "html", "title", "source", "url", "id")
    @classmethod
    def _valid_unicode(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            check_unicode(v, info.field_name or "field")
            if info.field_name != "id":  # an id with a control character fails its pattern
                v = scrub_controls(v)
        return v

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        # A javascript: or data: URL would be a script in the alignment page's link.
        if v is not None and not (re.search(URL_PATTERN, v) and is_http_url(v)):
            raise ValueError(
                "must be an absolute http:// or https:// URL with a host and no spaces "
                "(other schemes such as javascript: or data: are refused)"
            )
        return v

    @field_validator("published_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        # Stored in UTC: a time whose UTC equivalent falls outside years 1-9999
        # (e.g. 9999-12-31T23:59-05:00) cannot be stored, so it is refused here.
        if v is None:
            return None
        try:
            return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError(
                f"{v.isoformat()} is outside years 1-9999 once converted to UTC; "
                "send a real publication time"
            ) from None

    @model_validator(mode="after")
    def _text_or_html(self) -> ArticleBody:
        if self.text is None and self.html is None:
            raise ValueError("give the article as `text` (plain text) or `html` (a web page)")
        if self.text is not None and self.html is not None:
            raise ValueError("give either `text` or `html`, not both")
        if self.text is not None and not self.text.strip():
            raise ValueError("`text` is empty or only whitespace; send the article's text")
        if self.html is not None and not self.html.strip():
            raise ValueError("`html` is empty; send the page's HTML")
        return self


class Rejected(ValueError):
    """The body cannot be indexed; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def to_article(body: ArticleBody, *, max_text_chars: int) -> ArticleIn:
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
