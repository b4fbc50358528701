"""Page chrome: text on a news page that is not the article.

Copy-pasted or scraped article text carries ad markers ("ADVERTISEMENT",
"SCROLL TO CONTINUE READING"), reader widgets ("Get a summary"), navigation
("Previous Article") and trailing teaser lists ("Latest Headlines" followed by
other stories). Shared chrome must not make two articles look syndicated.

The mechanism is structural, in the spirit of jusText's paragraph classifier:
a line is chrome when it is *short* and carries a boilerplate signal (a
generic interface phrase, all capitals, or a repeat of another short line of
the same page); a *teaser block* is cut when a short list heading past the first
quarter of the page is followed by lines that look like a link list (short
unpunctuated titles, repeats, "3 hours ago" stamps). It is a heuristic: it
can miss site-specific chrome and, rarely, drop a short line of real text.

``mask_chrome`` blanks chrome with spaces so every character offset of the
result still points into the caller's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from shingling import kernels
from shingling.normalise import whitespace_table

#: Generic interface vocabulary of news pages (not tied to any one site).
_UI_PHRASES = re.compile(
    r"""\b(
        advert(isement)?s?|sponsored(\scontent)?|commercial\sbreak|promoted|
        scroll\s(down\s)?to\s(continue|read)|continue\sreading|read\s(more|next|also|full)|
        also\sread|see\salso|related(\s(articles?|stories|news|posts?|topics|content))?|
        (latest|top|more|recent)\s(headlines|news|stories|articles|videos)|
        trending(\snow)?|recommended(\sfor\syou)?|you\smay\salso\slike|most\s(read|popular|viewed)|
        more\sfrom|(previous|next|prev)\s(article|story|post|page)|
        share\s(this|on|via)|follow\sus|subscribe(\snow)?|sign\s(up|in)|newsletters?|log\sin|
        get\sa\ssummary|click\shere|listen\sto\s(this\s)?article|\d+\smin(ute)?s?\sread|
        skip\sto|back\sto\stop|all\srights\sreserved|cookies?|comments?|
        download\s(the\s)?app|join\sour|whatsapp|telegram\schannel
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
#: Headings that open a list of other stories at the foot of a page.
_LIST_HEADING = re.compile(
    r"""\b(headlines|related|trending|recommended|most\s(read|popular|viewed)|
        more\s(from|stories|news)|top\sstories|you\smay\salso\slike|read\s(next|also)|also\sread|
        (previous|next)\s(article|story|post))\b""",
    re.IGNORECASE | re.VERBOSE,
)
_REL_TIME = re.compile(
    r"\b\d+\s+(second|minute|min|hour|hr|day|week|month)s?\s+ago\b|\s//\s", re.IGNORECASE
)
_BLANK = re.compile(r"[^\r\n]")
#: Where ``str.splitlines`` breaks a line.
LINE_BREAKS = "\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029"
_TERMINAL = tuple(".!?:;\"'\u201d\u2019)")

SHORT_LINE_WORDS = 7
TITLE_LINE_WORDS = 16
_LONG_LINE_CHARS = 240
_LONG_LINE_WORDS = 40


@dataclass(slots=True)
class _Line:
    start: int
    end: int
    text: str
    words: int  # whitespace-separated words (capped for long lines: prose, not chrome)

    @property
    def blank(self) -> bool:
        return self.words == 0

    @property
    def short(self) -> bool:
        return 0 < self.words <= SHORT_LINE_WORDS

    @property
    def punctuated(self) -> bool:
        return self.text.rstrip().endswith(_TERMINAL)

    @property
    def key(self) -> str:
        """What makes two short lines "the same line" (case and spacing aside)."""
        return " ".join(self.text.split()).casefold()


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        # A line this long is prose whatever its word count: skip the split.
        words = _LONG_LINE_WORDS if len(body) > _LONG_LINE_CHARS else len(body.split())
        out.append(_Line(pos, pos + len(body), body, words))
        pos += len(raw)
    return out


def _may_have_short_lines(text: str) -> bool:
    """False only when no ``_Line`` of ``text`` is short; cheaper than ``_lines``."""
    return may_have_chrome(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4"))


def may_have_chrome(codepoints: np.ndarray) -> bool:
    """False when the text of these code points (UTF-32) has no short line, and
    so no chrome: ``mask_chrome`` would return it unchanged. One compiled pass."""
    return bool(kernels.has_short_line(codepoints, *short_line_args()))


def short_line_args() -> tuple[np.ndarray, int, int]:
    """The arguments of ``kernels.has_short_line`` after the code points."""
    return _line_kinds(), _LONG_LINE_CHARS, SHORT_LINE_WORDS


@lru_cache(maxsize=1)
def _line_kinds() -> np.ndarray:
    """``kernels.has_short_line``'s table: where ``str.splitlines`` breaks, and
    the other whitespace of ``str.split``, for each code point of the BMP."""
    kinds = np.where(whitespace_table(), kernels.SPACE, 0).astype(np.uint8)
    kinds[[ord(b) for b in LINE_BREAKS]] = kernels.LINE_BREAK
    return kinds


def _is_shouting(line: _Line) -> bool:
    letters = [c for c in line.text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def _short_chrome(line: _Line, repeats: set[str]) -> bool:
    """A short line with a boilerplate signal. Long lines are never chrome alone."""
    return line.short and (
        line.key in repeats or _is_shouting(line) or bool(_UI_PHRASES.search(line.text))
    )


def _looks_like_link_list(lines: list[_Line], repeats: set[str]) -> bool:
    body = [ln for ln in lines if not ln.blank]
    if len(body) < 2:
        return False
    listy = sum(
        1
        for ln in body
        if (ln.words <= TITLE_LINE_WORDS and not ln.punctuated)
        or (ln.short and ln.key in repeats)
        or _REL_TIME.search(ln.text)
        or (ln.short and _UI_PHRASES.search(ln.text))
    )
    return listy / len(body) >= 0.5


def chrome_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of ``text`` that are page chrome."""
    if not _may_have_short_lines(text):  # prose only: the common case for clean text
        return []
    lines = _lines(text)
    short = [ln for ln in lines if ln.short]
    if not short:  # prose only: the common case for clean article text
        return []
    seen: dict[str, int] = {}
    for ln in short:
        seen[ln.key] = seen.get(ln.key, 0) + 1
    repeats = {key for key, n in seen.items() if n > 1}
    spans = [(ln.start, ln.end) for ln in short if _short_chrome(ln, repeats)]
    # A teaser block needs an article before it: a quarter of the page at least.
    quarter = len(text) // 4
    for i, ln in enumerate(lines):
        if (
            ln.start >= quarter
            and 0 < ln.words <= 5
            and not ln.punctuated
            and _LIST_HEADING.search(ln.text)
            and _looks_like_link_list(lines[i + 1 :], repeats)
        ):
            spans.append((ln.start, len(text)))
            break
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def mask_chrome(text: str, spans: list[tuple[int, int]] | None = None) -> str:
    """``text`` with every chrome span blanked (newlines kept, length unchanged).

    ``spans`` are ``chrome_spans(text)``, computed here when not given.
    """
    spans = chrome_spans(text) if spans is None else spans
    if not spans:
        return text
    parts, pos = [], 0
    for s, e in spans:
        parts.append(text[pos:s])
        parts.append(_BLANK.sub(" ", text[s:e]))
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def strip_chrome(text: str) -> str:
    """``text`` without chrome, blank runs collapsed: for display and storage."""
    kept = mask_chrome(text)
    return re.sub(r"\n[ \t]*(\n[ \t]*)+", "\n\n", re.sub(r"[ \t]+\n", "\n", kept)).strip()
