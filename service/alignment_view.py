"""The side-by-side HTML page of an alignment (``templates/alignment.html``).

The page is rendered from the same ``shingling.align.Alignment`` objects as
the JSON route. Rows keep counterparts level: the rows follow ``b`` (the
newer text); each ``a`` sentence sits next to the ``b`` sentence it was
paired with, sentences of ``a`` with no counterpart (omitted) come at their
place in ``a``'s order. When ``b`` reorders paragraphs, ``a``'s column is
therefore not in ``a``'s order: every sentence shows its number (``A3``)
and links to its counterpart (``#b-5``; CSS ``:target`` highlights it
without JavaScript, a small script also highlights on click and hover).
Autoescaping is on: article text never becomes markup. The style and script
are ``service/static/alignment.css`` and ``.js``, inlined (a page written to a
file works on its own) and allowed by hash in the page's Content-Security-Policy
(``service.web``); the link to an original is only drawn for an http(s) URL.

Shared passages (``shingling.passages``: runs of text both carry) are marked
inside the sentences, passage ``k`` in the same colour on both sides; word
differences inside a changed sentence are marked on top (changed words
underlined, words only in B underlined twice, words only in A struck). At
phone width the two columns become one, with a toggle (radio buttons and
CSS: no script needed) to read A, B or both. Served by the editor UI
(``service.pages``), the page also shows the pair's verdict and scores
(``PairInfo``) and links back to the articles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus

import jinja2

from service.web import inline, is_http_url
from shingling.align import Alignment, Sentence, TooManySentences
from shingling.config import PipelineConfig
from shingling.passages import shared_passages

#: Passage colours the stylesheet defines (``.pass.p0`` .. ``.pass.p7``).
PASSAGE_COLOURS = 8

LEGEND = (
    ("copied", "Copied", "the same sentence up to small edits"),
    ("paraphrased", "Paraphrased", "the same content, reworded"),
    ("omitted", "Omitted", "only in A: no counterpart in B"),
    ("added", "Added", "only in B: no counterpart in A"),
)

#: What a ``context`` tag means (``Sentence.context``).
CONTEXT_HELP = (
    "reused by the context pass: it stands in a passage beside sentences paired as reused "
    "and resembles that passage; labelled as usual, but not counted in the "
    "document-level copy (rewritten) verdict"
)


@dataclass(frozen=True)
class Meta:
    """What the page says about one side."""

    label: str  # "A" / "B"
    title: str
    source: str | None = None
    url: str | None = None
    id: str | None = None
    published_at: str | None = None


@dataclass(frozen=True)
class PairInfo:
    """What the page says about the pair: scores as the index computes them.

    ``b_in_a``: share of B's shingles found in A; ``a_in_b`` the reverse;
    ``a_share``/``b_share``: share of each text's words inside shared passages;
    ``passages``: ``(a_start, a_end, b_start, b_end)`` character offsets.
    """

    verdict: str | None
    jaccard: float
    b_in_a: float
    a_in_b: float
    a_share: float
    b_share: float
    passages: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class Piece:
    """A run of a sentence's text; ``op`` is set on words that differ from the counterpart,
    ``passage`` (its number) on text inside a passage both texts share."""

    text: str
    op: str | None
    passage: int | None = None

    @property
    def colour(self) -> str:
        return "" if self.passage is None else f"p{self.passage % PASSAGE_COLOURS}"


@dataclass(frozen=True)
class Cell:
    side: str  # "a" or "b"
    sentence: Sentence
    pieces: tuple[Piece, ...]

    @property
    def anchor(self) -> str:
        return f"{self.side}-{self.sentence.index}"

    @property
    def partner(self) -> str | None:
        other = "b" if self.side == "a" else "a"
        m = self.sentence.match
        return None if m is None else f"{other}-{m}"


@dataclass(frozen=True)
class Row:
    a: tuple[Cell, ...]
    b: tuple[Cell, ...]


def pieces(s: Sentence, spans: Sequence[tuple[int, int]] = ()) -> tuple[Piece, ...]:
    """The sentence's text cut at its changed words (``replace``/``delete``/``insert``)
    and at the shared passages ``spans`` (``(start, end)`` offsets into its side's
    text; passage ``k`` is ``spans[k]``)."""
    ops = [op for op in s.diff if op.op != "equal" and op.end > op.start]
    inside = [
        (k, max(a, s.start), min(b, s.end))
        for k, (a, b) in enumerate(spans)
        if a < s.end and b > s.start
    ]
    cuts = {s.start, s.end}
    for o in ops:
        cuts.update((min(max(o.start, s.start), s.end), min(max(o.end, s.start), s.end)))
    for _, a, b in inside:
        cuts.update((a, b))
    points = sorted(cuts)
    out: list[Piece] = []
    for x, y in zip(points, points[1:], strict=False):
        op = next((o.op for o in ops if o.start <= x < o.end), None)
        passage = next((k for k, a, b in inside if a <= x < b), None)
        text = s.text[x - s.start : y - s.start]
        if out and out[-1].op == op and out[-1].passage == passage:
            out[-1] = Piece(out[-1].text + text, op, passage)
        else:
            out.append(Piece(text, op, passage))
    return tuple(out)


def _text_of(sentences: Sequence[Sentence]) -> str:
    """A side's text rebuilt from its sentences (offsets kept; gaps become spaces)."""
    end = max((x.end for x in sentences), default=0)
    chars = [" "] * end
    for x in sentences:
        chars[x.start : x.end] = x.text
    return "".join(chars)


def passages_of(alignment: Alignment) -> tuple[tuple[int, int, int, int], ...]:
    """Shared passages of the two sides, found with the default pipeline (the page
    only marks them; ``PairInfo.passages`` carries the index's own when given)."""
    found = shared_passages(_text_of(alignment.a), _text_of(alignment.b), PipelineConfig())
    return tuple((p.a_start, p.a_end, p.b_start, p.b_end) for p in found.passages)


def rows(alignment: Alignment, passages: Sequence[tuple[int, int, int, int]] = ()) -> list[Row]:
    """Table rows with counterparts level (see the module docstring)."""
    a, b = alignment.a, alignment.b
    placed: set[int] = set()
    out: list[Row] = []
    spans = {"a": [(p[0], p[1]) for p in passages], "b": [(p[2], p[3]) for p in passages]}

    def cell(side: str, s: Sentence) -> Cell:
        return Cell(side, s, pieces(s, spans[side]))

    def flush_before(limit: int) -> None:
        for s in a:
            if s.index < limit and s.index not in placed and s.match is None:
                placed.add(s.index)
                out.append(Row((cell("a", s),), ()))

    for sb in b:
        partners = [s for s in a if s.match == sb.index and s.index not in placed]
        if sb.match is not None and sb.match not in placed:
            main = a[sb.match]
            partners = sorted({main, *partners}, key=lambda s: s.index)
        if partners:
            flush_before(partners[0].index)
            placed.update(s.index for s in partners)
        out.append(Row(tuple(cell("a", s) for s in partners), (cell("b", sb),)))
    flush_before(len(a) + 1)
    for s in a:  # matched to a b sentence that itself went elsewhere: keep them all
        if s.index not in placed:
            placed.add(s.index)
            out.append(Row((cell("a", s),), ()))
    return out


def when(value: str | float | None) -> str:
    """An ISO 8601 time (or epoch seconds) as ``2024-10-31 14:05 UTC`` (unknown: "")."""
    if value is None or value == "":
        return ""
    try:
        if isinstance(value, int | float):
            dt = datetime.fromtimestamp(value, UTC)
        else:
            dt = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        return str(value)
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def pct(value: float | None) -> str:
    """A share (0..1) as a whole percentage."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.0%}"


@cache
def environment() -> jinja2.Environment:
    """The pages' Jinja2 environment (built on first use, autoescape on).

    ``value is http_url``: the only test a template may draw an ``href`` from
    stored data with.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("service", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["http_url"] = is_http_url
    env.filters["when"] = when
    env.filters["pct"] = pct
    return env


def render(
    alignment: Alignment,
    a: Meta,
    b: Meta,
    *,
    pair: PairInfo | None = None,
    links: bool = False,
    semantic: bool = False,
) -> str:
    """The HTML page of ``alignment`` between the texts described by ``a`` and ``b``.

    ``pair``: the verdict and scores to show (and the passages to mark); ``links``:
    the page is served by the editor UI, so it links back to its pages (a page
    written to a file has nowhere to link to); ``semantic``: the alignment was
    made with the semantic pair model (the page says what paired its sentences).
    """
    passages = pair.passages if pair is not None else passages_of(alignment)
    template = environment().get_template("alignment.html")
    return template.render(
        alignment=alignment,
        rows=rows(alignment, passages),
        a=a,
        b=b,
        pair=pair,
        passages=len(passages),
        links=links,
        legend=LEGEND,
        context_help=CONTEXT_HELP,
        semantic=semantic,
        summary=alignment.summary,
        # Both stylesheets: the UI's (header, verdict, scores) and the page's own; the
        # page policy allows every file of service/static by hash, and this page uses each.
        assets={
            "css": inline("alignment.css"),
            "ui": inline("ui.css"),
            "js": inline("alignment.js"),
        },
    )


def too_many(exc: TooManySentences) -> str:
    """The refusal of a text over the sentence limit (API, page and CLI), naming the setting."""
    return (
        f"text {exc.side} has {exc.count:,} sentences; the limit is {exc.limit:,} "
        "(COPYDESK_MAX_ALIGN_SENTENCES): split the article, or raise the limit"
    )


def render_error(status: int, detail: str) -> str:
    """The HTML page of an error answered on an HTML route (``detail`` escaped)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    template = environment().get_template("error.html")
    return template.render(
        status=status, phrase=phrase, detail=detail, assets={"css": inline("ui.css")}
    )
