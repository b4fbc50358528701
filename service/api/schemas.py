"""Response schemas of the HTTP API (see API.md); the request body of an
article is ``service.intake.ArticleBody``."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field


class PassageOut(BaseModel):
    """A run of text both articles carry: character offsets ``[start, end)``
    into the posted (``query_*``) and the matched (``match_*``) article's text."""

    # Read from shingling.Passage's attributes (a = the query, b = the match).
    query_start: int = Field(validation_alias=AliasChoices("query_start", "a_start"))
    query_end: int = Field(validation_alias=AliasChoices("query_end", "a_end"))
    match_start: int = Field(validation_alias=AliasChoices("match_start", "b_start"))
    match_end: int = Field(validation_alias=AliasChoices("match_end", "b_end"))
    words: int = Field(description="Length of the passage in words (as the posted article has it).")


class MatchOut(BaseModel):
    id: str
    title: str | None = None
    source: str | None = None
    published_at: str | None = None
    jaccard: float = Field(description="Exact word-shingle Jaccard of the two articles.")
    containment: float = Field(
        description="Exact share of the posted article's shingles found in the match."
    )
    reverse_containment: float = Field(
        description="Exact share of the match's shingles found in the posted article."
    )
    shared_shingles: int
    verdict: Literal["duplicate", "syndicated", "partial"]
    passages: list[PassageOut] = Field(
        default_factory=list,
        description="Where the two articles share running text, in the posted article's order.",
    )
    query_share: float = Field(
        default=0.0,
        description="Share of the posted article's words inside the shared passages (0-1).",
    )
    match_share: float = Field(
        default=0.0,
        description="Share of the match's words inside the shared passages (0-1): how much "
        "of the match the posted article took.",
    )


class PostArticleOut(BaseModel):
    id: str
    status: Literal["created", "replaced", "unchanged"]
    matches: list[MatchOut]


class MatchesOut(BaseModel):
    matches: list[MatchOut]


class ArticleOut(BaseModel):
    id: str
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    ingested_at: str


class ArticleSummaryOut(BaseModel):
    """A stored article in a list: its metadata, without the text."""

    id: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    ingested_at: str


class ArticlesOut(BaseModel):
    articles: list[ArticleSummaryOut] = Field(
        description="Newest first (published_at, else ingest time)."
    )
    offset: int
    limit: int
    total: int | None = Field(
        description="How many articles fit the query: the index's size without `q`, the "
        "day's count for a date; null for a text search (it stops at the first pages)."
    )
    next_offset: int | None = Field(description="The `offset` of the next page; null on the last.")
    complete: bool = Field(
        description="False when a text search stopped before reaching the oldest articles "
        "(it reads the newest 20,000 at most): refine `q`, or search by date."
    )


class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut, "description": desc}
    for code, desc in {
        400: "Malformed request body",
        401: "Missing or wrong API key",
        404: "Unknown id",
        409: "Other writers kept replacing this id at the same moment: retry after Retry-After",
        413: "Body or text too large",
        415: "Body is not JSON",
        422: "Invalid fields",
        503: "Redis unavailable or index config mismatch",
    }.items()
}
