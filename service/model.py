"""copydesk's domain types: the article a caller sends, the one the index
keeps, a match and a write's result, and the errors the index raises.

Plain dataclasses with no Redis or HTTP in them: intake, the CLI, the API,
bench and the index all speak these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shingling import Passage, Verdict

EMPTY_TEXT = "text has no words once page chrome is removed"


class ConfigMismatch(RuntimeError):
    """The index in Redis was built with other pipeline parameters."""


class Contention(RuntimeError):
    """Other writers kept changing one article while this write retried.

    A write reads the id's current version, then its script checks that the
    version has not moved (optimistic: Redis Cluster needs every key a script
    touches named in advance, and the old version's keys are known only after
    the read). Each lost race backs off a little longer; after ``attempts``
    the caller gets this, and the API answers 409 with ``Retry-After``.
    """

    retry_after = 1  # seconds: a contended id settles within milliseconds

    def __init__(self, article_id: str, action: str, attempts: int) -> None:
        super().__init__(
            f"article {article_id!r} was changed by other writers {attempts} times "
            f"while this {action} retried; retry it after {self.retry_after} s, or send "
            "the writes of one id from one client in order"
        )
        self.article_id = article_id


class MatchesUnavailable(RuntimeError):
    """An article was written, but its matches could not be read: a partition
    of the index (a Redis Cluster master) did not answer. Sending the article
    again gives them (it is then ``unchanged``)."""

    def __init__(self, article_id: str, status: str, cause: Exception) -> None:
        super().__init__(f"article {article_id!r} was {status}, but its matches could not be read")
        self.article_id, self.status, self.cause = article_id, status, cause


class EmptyText(ValueError):
    """The text has no words once page chrome is removed."""


@dataclass(frozen=True)
class ArticleIn:
    text: str
    id: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class StoredArticle:
    id: str
    text: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None
    ingested_at: str


@dataclass(frozen=True)
class MatchRewrite:
    """The sentence aligner's look at one match (``rewritten=true``): whether
    one article is a reworded copy of the other (``shingling.rewrites.judge``).

    ``copy_side``: which article was taken as the copy (the one with fewer
    sentences); ``rewritten``: ``verbatim``, ``light`` or ``heavy``, or None
    when the aligner finds no copy; ``paraphrase_share``: the paraphrased
    part of the copy's reused sentences; ``reused_share``: reused sentences
    over the copy's countable ones; ``linked``: a copy with ``reused_share``
    of at least 0.3, the rule a clustering job with ``rewritten`` links by
    (the match's verdict is then at least ``syndicated``); ``model``: the
    pair model (``COPYDESK_SEMANTIC``). Approximate: a model's labels.
    """

    copy_side: Literal["query", "match"]
    rewritten: Literal["verbatim", "light", "heavy"] | None
    paraphrase_share: float
    reused: int
    reused_share: float
    linked: bool
    model: Literal["lexical", "semantic"]


@dataclass(frozen=True)
class Match:
    id: str
    title: str | None
    source: str | None
    published_at: str | None
    jaccard: float
    containment: float
    reverse_containment: float
    shared_shingles: int
    verdict: Verdict
    #: Where the two texts share running text: ``a_*`` offsets into the
    #: query's text, ``b_*`` into the match's (``shingling.passages``).
    passages: list[Passage] = field(default_factory=list)
    #: Share of the query's words inside those passages (0..1).
    query_share: float = 0.0
    #: Share of the match's words inside them: how much of it the query took.
    match_share: float = 0.0
    #: The aligner's judgement, when asked for and this match was aligned.
    rewrite: MatchRewrite | None = None
    #: The match's internal doc number, for locating passages (not reported).
    number: int = field(default=-1, repr=False, compare=False)


@dataclass(frozen=True)
class PutResult:
    id: str
    status: Literal["created", "replaced", "unchanged"]
    matches: list[Match]
