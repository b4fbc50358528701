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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from http import HTTPStatus

import jinja2

from service.web import inline, is_http_url
from shingling.align import Alignment, Sentence

LEGEND = (
    ("copied", "Copied", "the same sentence up to small edits"),
    ("paraphrased", "Paraphrased", "the same content, reworded"),
    ("omitted", "Omitted", "only in A: no counterpart in B"),
    ("added", "Added", "only in B: no counterpart in A"),
)


@dataclass(frozen=True)
class Meta:
    """What the page says about one side."""

    label: str  # "A" / "B"
    title: str
    source: str | None = None
    url: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Piece:
    """A run of a sentence's text; ``op`` is set on words that differ from the counterpart."""

    text: str
    op: str | None


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


def pieces(s: Sentence) -> tuple[Piece, ...]:
    """The sentence's text cut at its changed words (``replace``/``delete``/``insert``)."""
    out: list[Piece] = []
    pos = s.start
    for op in s.diff:
        if op.op == "equal" or op.start < pos:
            continue
        if op.start > pos:
            out.append(Piece(s.text[pos - s.start : op.start - s.start], None))
        out.append(Piece(s.text[op.start - s.start : op.end - s.start], op.op))
        pos = op.end
    if pos < s.end:
        out.append(Piece(s.text[pos - s.start :], None))
    return tuple(out)


def rows(alignment: Alignment) -> list[Row]:
    """Table rows with counterparts level (see the module docstring)."""
    a, b = alignment.a, alignment.b
    placed: set[int] = set()
    out: list[Row] = []

    def cell(side: str, s: Sentence) -> Cell:
        return Cell(side, s, pieces(s))

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
    return env


def render(alignment: Alignment, a: Meta, b: Meta) -> str:
    """The HTML page of ``alignment`` between the texts described by ``a`` and ``b``."""
    template = environment().get_template("alignment.html")
    return template.render(
        alignment=alignment,
        rows=rows(alignment),
        a=a,
        b=b,
        legend=LEGEND,
        summary=alignment.summary,
        assets={"css": inline("alignment.css"), "js": inline("alignment.js")},
    )


def render_error(status: int, detail: str) -> str:
    """The HTML page of an error answered on an HTML route (``detail`` escaped)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    template = environment().get_template("error.html")
    return template.render(status=status, phrase=phrase, detail=detail)
