"""Sentences of a news text, with character offsets into the caller's text.

Segmentation is done by pysbd (a maintained, rule-based port of the Golden
Rules segmenter): it knows English abbreviations and initials (``U.S.``,
``Oct. 23``, ``Lloyd J. Austin III``, ``No. 2``, ``p.m.``) and does not
break inside ``2.5``. It was kept over syntok and NLTK's Punkt because it
is pure Python, needs no trained model, and passes the news cases in
``tests/shingling/test_sentences.py`` out of the box; Punkt splits after
``J.`` in initials and syntok is not a dependency yet.

Three things are added around pysbd, because news copy needs them:

* Lines. A line break ends a sentence when the line has no terminal
  punctuation (headlines, bylines, "(With ANI Inputs)") unless the text
  obviously continues (the next line starts in lower case, or the line ends
  with a comma, colon or dash, as a dateline on its own line does). Blank
  lines always end a sentence. A text wrapped at a fixed width (many lines
  end mid-sentence and go on in lower case, see ``WRAPPED_SHARE``) has its
  single line breaks ignored: there they are layout, not structure. Blocks
  are segmented one at a time, which keeps pysbd's cost linear in their
  number.
* Quotations. pysbd keeps a multi-sentence direct quotation as one
  sentence; for alignment we want its sentences, so the inside of a quote
  is segmented again and the quote is cut there (the closing mark stays
  with the last sentence).
* Chrome. Splitting runs on ``mask_chrome(text)``: chrome lines are blank
  there, so they are never returned as sentences.

Boundaries are heuristic: an abbreviation pysbd does not know, or a
sentence that ends with one, can still be cut wrongly.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache

import pysbd

from shingling.chrome import mask_chrome
from shingling.tokenise import quote_spans

_TERMINAL = tuple(".!?\u2026\"'\u201d\u2019)]")
_CONTINUES = tuple(",;:-\u2013\u2014(")
_HAS_WORD = re.compile(r"\w")
_ENDS_SENTENCE = re.compile("[.!?\u2026][\"'\u201d\u2019)\\]]*\\s*$")
#: Share of line breaks that must look like wrapping for a text to count as hard-wrapped.
WRAPPED_SHARE = 0.2
_QUOTE_MARKS = '"\u201c\u201d\u201e\u00ab\u00bb'
_NEWLINES = str.maketrans("\r\n", "  ")


@dataclass(frozen=True)
class SentenceSpan:
    """One sentence: ``text == original[start:end]`` (stripped of outer whitespace)."""

    start: int
    end: int
    text: str


@cache
def _segmenter() -> pysbd.Segmenter:
    # Built on first use, not at import: pysbd compiles its rules lazily anyway.
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _lines(masked: str) -> list[tuple[int, int]]:
    lines: list[tuple[int, int]] = []
    pos = 0
    for raw in masked.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        lines.append((pos, pos + len(body)))
        pos += len(raw)
    return lines


def _hard_wrapped(masked: str, lines: list[tuple[int, int]]) -> bool:
    """Whether single line breaks are layout (text wrapped at a fixed width)
    rather than structure: many lines end mid-sentence and the next line
    goes on in lower case."""
    joins = breaks = 0
    for (s, e), (ns, ne) in itertools.pairwise(lines):
        line, nxt = masked[s:e].rstrip(), masked[ns:ne].lstrip()
        if not line or not nxt:
            continue
        breaks += 1
        joins += not line.endswith(_TERMINAL) and nxt[0].islower()
    return breaks >= 4 and joins >= WRAPPED_SHARE * breaks


def _blocks(masked: str) -> list[tuple[int, int]]:
    """Spans of text that may hold several sentences but never cross a hard break."""
    lines = _lines(masked)
    wrapped = _hard_wrapped(masked, lines)
    blocks: list[tuple[int, int]] = []
    open_start: int | None = None
    for i, (s, e) in enumerate(lines):
        line = masked[s:e].strip()
        if not line:
            if open_start is not None:
                blocks.append((open_start, lines[i - 1][1]))
                open_start = None
            continue
        if open_start is None:
            open_start = s
        nxt = masked[lines[i + 1][0] : lines[i + 1][1]].strip() if i + 1 < len(lines) else ""
        if not nxt or (not wrapped and _line_ends_sentence(line, nxt)):
            blocks.append((open_start, e))
            open_start = None
    return blocks


def _line_ends_sentence(line: str, nxt: str) -> bool:
    """Whether a line break between ``line`` and a non-blank ``nxt`` is a boundary."""
    # Otherwise: one paragraph per line, or a headline/byline without final
    # punctuation. A lower-case start or a trailing comma/dash means the
    # sentence continues: hard-wrapped text, or a dateline on its own line.
    return not (nxt[0].islower() or line.endswith(_CONTINUES))


#: pysbd's cost grows with the square of a block's length (a 170k-character
#: paragraph took 38 s). A block longer than ``LONG_BLOCK`` characters is
#: segmented ``WINDOW`` characters at a time: every sentence of a window but
#: the last is kept, and the next window starts where that last one started.
#: (pysbd's boundaries in a long block can depend on text far away, so shorter
#: blocks, nearly all of real copy, are left whole.)
LONG_BLOCK = 30_000
WINDOW = 10_000


def _segment(block: str) -> list[tuple[int, int]]:
    """Sentence spans pysbd finds in ``block``, a window at a time (``WINDOW``)."""
    if len(block) <= LONG_BLOCK:
        return _locate(block, _segmenter().segment(block))
    out: list[tuple[int, int]] = []
    pos, size = 0, WINDOW
    while pos < len(block):  # each pass keeps at least one sentence or widens the window
        end = min(len(block), pos + size)
        spans = _locate(block[pos:end], _segmenter().segment(block[pos:end]))
        if end == len(block):
            out.extend((pos + s, pos + e) for s, e in spans)
            break
        if len(spans) < 2:  # one sentence longer than the window: widen it
            size *= 2
            continue
        out.extend((pos + s, pos + e) for s, e in spans[:-1])
        pos, size = pos + spans[-1][0], WINDOW
    return out


def _locate(block: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Offsets of pysbd's pieces in ``block`` (they are substrings with clean=False)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        core = piece.strip()
        if not core:
            continue
        at = block.find(core, cursor)
        if at < 0:  # defensive: pysbd changed the text; keep the rest as one sentence
            spans.append((cursor, len(block)))
            return spans
        spans.append((at, at + len(core)))
        cursor = at + len(core)
    return spans


def _split_quotes(block: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Cut sentences at sentence boundaries found inside direct quotations."""
    quotes = quote_spans(block)
    if not quotes:
        return spans
    cuts: set[int] = set()
    for qs, qe in quotes:
        # The span includes both marks; segment what is between them.
        closed = qe - qs > 1 and block[qe - 1] in _QUOTE_MARKS
        inner = block[qs + 1 : qe - 1 if closed else qe]
        pieces = _segment(inner)
        # Cut before every inner sentence but the first.
        cuts.update(qs + 1 + ps for ps, _ in pieces[1:])
    out: list[tuple[int, int]] = []
    for s, e in spans:
        inside = sorted(c for c in cuts if s < c < e)
        for a, b in zip([s, *inside], [*inside, e], strict=True):
            out.append(_strip(block, a, b))
    return out


def _strip(block: str, s: int, e: int) -> tuple[int, int]:
    while s < e and block[s].isspace():
        s += 1
    while e > s and block[e - 1].isspace():
        e -= 1
    return s, e


def ends_like_sentence(text: str) -> bool:
    """Whether ``text`` ends as a sentence does: ``.``, ``!``, ``?`` or an
    ellipsis, perhaps inside closing quotation marks or brackets. A headline,
    a heading, a byline or a navigation line ("Job Interview Types",
    "800score.com Prep Course") does not; ``rewrite_degree`` does not take a
    short reworded one (``AlignParams.heading_words``) as evidence of a copy."""
    return _ENDS_SENTENCE.search(text) is not None


def split_sentences(text: str) -> list[SentenceSpan]:
    """Sentences of ``text`` in order, chrome excluded, offsets into ``text``."""
    masked = mask_chrome(text)
    out: list[SentenceSpan] = []
    for bs, be in _blocks(masked):
        # Line breaks inside a block are not boundaries (pysbd treats them as such).
        block = masked[bs:be].translate(_NEWLINES)
        spans = _split_quotes(block, _segment(block))
        for s, e in spans:
            if e > s and _HAS_WORD.search(block, s, e):
                out.append(SentenceSpan(bs + s, bs + e, text[bs + s : bs + e]))
    return out
