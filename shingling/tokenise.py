"""Word tokens with character offsets and a direct-quotation flag.

Tokens are found in the chrome-masked text (so offsets point into the
caller's text) and each token's value is folded (``shingling.normalise.fold``).
This is the one tokeniser of the project: shingling, the aligner's TF-IDF
analyzer and the evaluation code all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np

from shingling.chrome import mask_chrome
from shingling.normalise import fold

# Words, keeping internal apostrophes, hyphens, points and commas together:
# "People's", "Tae-yul", "10,000", "3.5", "U.S". (A point or comma joins only
# when no space follows it, which in running text means inside a token.)
_TOKEN = re.compile(r"\w++(?:[-'\u2019.,]\w++)*+")  # possessive: no backtracking
_OPEN_CLOSE = '"\u201c\u201d\u201e\u00ab\u00bb'
_QUOTE_OR_NEWLINE = re.compile(f"[{_OPEN_CLOSE}\\n]")
# Folding is per token and news vocabulary repeats: fold each distinct token once.
_fold = lru_cache(maxsize=1 << 18)(fold)


@dataclass(frozen=True)
class Tokens:
    """Parallel arrays, one entry per token."""

    values: tuple[str, ...]
    starts: np.ndarray  # int64 character offsets into the original text
    ends: np.ndarray
    quoted: np.ndarray  # bool: inside a direct quotation

    def __len__(self) -> int:
        return len(self.values)


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of direct quotations, between double quotation marks.

    Quotes are paired within a paragraph, as news style closes them there;
    an unclosed quote runs to the end of its paragraph (the next paragraph of
    a multi-paragraph quote reopens it). Single quotes are ignored: they are
    mostly apostrophes. Approximate by nature.
    """
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    # One pass over the quotation marks and line ends only.
    for m in _QUOTE_OR_NEWLINE.finditer(text):
        i, ch = m.start(), m.group()
        if ch == "\n":
            # A paragraph break (a line end followed by a blank line) closes a quote.
            nxt = text.find("\n", i + 1)
            if opened is not None and nxt != -1 and not text[i + 1 : nxt].strip():
                spans.append((opened, i))
                opened = None
        elif opened is None and ch != "\u201d":
            opened = i
        elif opened is not None and ch != "\u201c":
            spans.append((opened, i + 1))
            opened = None
    if opened is not None:
        spans.append((opened, len(text)))
    return spans


def tokenise(text: str, *, strip_chrome: bool = True) -> Tokens:
    """Tokens of ``text``; chrome lines are skipped unless ``strip_chrome`` is False."""
    source = mask_chrome(text) if strip_chrome else text
    matches = list(_TOKEN.finditer(source))
    flat = chain.from_iterable(map(re.Match.span, matches))
    spans = np.fromiter(flat, dtype=np.int64, count=2 * len(matches)).reshape(-1, 2)
    starts, ends = spans[:, 0].copy(), spans[:, 1].copy()
    quoted = np.zeros(len(matches), dtype=bool)
    for s, e in quote_spans(source):
        quoted |= (starts >= s) & (ends <= e)
    return Tokens(tuple(map(_fold, map(re.Match.group, matches))), starts, ends, quoted)


def token_values(text: str) -> tuple[list[str], np.ndarray]:
    """Folded token values and their quotation flags, without offsets: the
    indexing path.

    The text is cut at the quotation spans (whose ends are quotation marks or
    paragraph breaks, so no token is split); each piece is folded whole and
    tokenised by one ``findall``. This gives ``tokenise``'s values except where
    folding itself changes a word boundary (a soft hyphen inside a word is
    dropped, joining its halves), which is the better reading anyway.
    """
    source = mask_chrome(text)
    values: list[str] = []
    counts: list[int] = []  # tokens per piece; pieces alternate outside/inside quotes
    pos = 0
    for s, e in [*quote_spans(source), (len(source), len(source))]:
        for lo, hi in ((pos, s), (s, e)):
            found = _TOKEN.findall(fold(source[lo:hi])) if hi > lo else []
            values.extend(found)
            counts.append(len(found))
        pos = e
    quoted = np.resize(np.array([False, True]), len(counts))
    return values, np.repeat(quoted, counts)


def words(text: str) -> list[str]:
    """Folded word tokens of a short text (no chrome removal): the sklearn analyzer."""
    return list(map(_fold, _TOKEN.findall(text)))
