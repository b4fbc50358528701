"""Response schemas of the HTTP API (see API.md): articles and matches,
alignments, clustering jobs, errors. Request bodies live with what reads them:
an article's is ``service.intake.ArticleBody``, an alignment's and a job's are
in their route modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

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


class RewriteOut(BaseModel):
    """The sentence aligner's judgement of a match (asked for with ``rewritten=true``)."""

    copy_side: Literal["query", "match"] = Field(
        description="Which article was judged as the copy of the other: the one with "
        "fewer sentences."
    )
    rewritten: Literal["verbatim", "light", "heavy"] | None = Field(
        description="The copy is the other article reworded this much (verbatim, lightly "
        "or heavily reworded, as an alignment's summary.rewritten); null: not a copy."
    )
    paraphrase_share: float = Field(
        ge=0.0, le=1.0, description="Share of the copy's reused sentences that are paraphrased."
    )
    reused: int = Field(
        description="Sentences of the copy copied or paraphrased (no shared quotations)."
    )
    reused_share: float = Field(
        ge=0.0, le=1.0, description="reused over the copy's sentences of 4 words or more."
    )
    linked: bool = Field(
        description="A copy with reused_share >= 0.3: the pair is one story, as a clustering "
        "job with rewritten links it, and the verdict is at least syndicated."
    )
    model: Literal["lexical", "semantic"] = Field(
        description="The aligner's pair model (COPYDESK_SEMANTIC)."
    )


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
        description="Where the two articles share running text, in the posted article's order "
        "(located for the first COPYDESK_MAX_LOCATED matches of a reply, 10 by default; the "
        "rest carry [] and shares of 0).",
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
    rewrite: RewriteOut | None = Field(
        default=None,
        description="With rewritten=true: the sentence aligner's judgement of this match "
        "(the first COPYDESK_REWRITE_PAIRS candidates, see docs/matching.md); null when "
        "not asked for or not aligned. Approximate: a model's labels.",
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


# Alignments (routes/alignments.py)


class WordOpOut(BaseModel):
    op: Literal["equal", "replace", "delete", "insert"] = Field(
        description="equal: also in the counterpart; replace: changed words; "
        "delete: only in a; insert: only in b."
    )
    start: int = Field(description="Character offset into this side's text.")
    end: int
    text: str


class SentenceOut(BaseModel):
    index: int
    text: str
    start: int = Field(description="Character offset into this side's text.")
    end: int
    label: Literal["copied", "paraphrased", "added", "omitted"]
    match: int | None = Field(
        description="Index of the counterpart in the other text (for a split or merged "
        "sentence, the main partner), or null."
    )
    score: float = Field(
        description="Matched: probability that both say the same thing (containment for the "
        "extra part of a split/merged sentence). Unmatched: the best probability found."
    )
    quote: bool = Field(
        default=False, description="The shared words are mostly inside direct quotation marks."
    )
    context: bool = Field(
        default=False,
        description="Reused by context: inside or at the edge of a passage the pair model "
        "found, and like it, though not enough alone. Not counted in the summary's reused.",
    )
    diff: list[WordOpOut] = Field(
        default_factory=list, description="Word-level differences with the counterpart."
    )


class SummaryOut(BaseModel):
    copied: int = Field(description="Sentences of b labelled copied.")
    paraphrased: int = Field(description="Sentences of b labelled paraphrased.")
    added: int = Field(description="Sentences of b with no counterpart in a.")
    omitted: int = Field(description="Sentences of a with no counterpart in b.")
    reused: int = Field(
        default=0,
        description="Sentences of b copied or paraphrased, not counting shared quotations "
        "and fragments: the evidence behind rewritten.",
    )
    paraphrase_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of the reused sentences that are paraphrased.",
    )
    rewritten: Literal["verbatim", "light", "heavy"] | None = Field(
        default=None,
        description="b is a copy of a, reworded this much (by paraphrase_share: verbatim, "
        "lightly or heavily reworded); null: b is not a copy of a (an independent report "
        "of the same event sharing quotations is not one). Approximate: see docs/quality.md.",
    )


class AlignmentOut(BaseModel):
    a: list[SentenceOut]
    b: list[SentenceOut]
    summary: SummaryOut


# Clustering jobs (routes/clusters.py)


class JobCreated(BaseModel):
    job_id: str


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    error: str | None
    summary: dict[str, Any] | None = Field(
        description="When done: articles, clusters, clustered_articles, largest_cluster, "
        "verify (exact or estimate), candidate/verified/linked pairs, seconds, timings."
    )
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ClusterOut(BaseModel):
    cluster_id: str = Field(description="Stable: a digest of the origin's article id.")
    origin: str = Field(
        description="Likely first publisher: earliest published_at, else "
        "the member whose text the others contain most."
    )
    members: list[str]


class ClustersOut(BaseModel):
    clusters: list[ClusterOut]


# Errors


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
