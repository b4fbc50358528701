"""Word tokens with character offsets and a direct-quotation flag.

Tokens are found in the chrome-masked text (so offsets point into the
caller's text) and each token's value is folded (``shingling.normalise.fold``).
This is the one tokeniser of the project: shingling, the aligner's TF-IDF
analyzer and the evaluation code all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from shingling.chrome import mask_chrome
from shingling.normalise import fold

# Words, keeping internal apostrophes, hyphens and digit groups together:
# "People's", "Tae-yul", "10,000", "U.S".
_TOKEN = re.compile(r"\w+(?:(?:['\u2019\-]|(?<=\d)[.,](?=\d)|(?<=\b\w)\.(?=\w\b))\w+)*")
_OPEN_CLOSE = '"\u201c\u201d\u201e\u00ab\u00bb'
_PARAGRAPH = re.compile(r"\n\s*\n")


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
    para_start = 0
    for m in [*_PARAGRAPH.finditer(text), None]:
        para_end = m.start() if m else len(text)
        opened: int | None = None
        for i in range(para_start, para_end):
            ch = text[i]
            if ch not in _OPEN_CLOSE:
                continue
            if opened is None and ch != "\u201d":
                opened = i
            elif opened is not None and ch != "\u201c":
                spans.append((opened, i + 1))
                opened = None
        if opened is not None:
            spans.append((opened, para_end))
        para_start = m.end() if m else len(text)
    return spans


def tokenise(text: str, *, strip_chrome: bool = True) -> Tokens:
    """Tokens of ``text``; chrome lines are skipped unless ``strip_chrome`` is False."""
    source = mask_chrome(text) if strip_chrome else text
    matches = list(_TOKEN.finditer(source))
    starts = np.fromiter((m.start() for m in matches), dtype=np.int64, count=len(matches))
    ends = np.fromiter((m.end() for m in matches), dtype=np.int64, count=len(matches))
    quoted = np.zeros(len(matches), dtype=bool)
    for s, e in quote_spans(source):
        quoted |= (starts >= s) & (ends <= e)
    return Tokens(tuple(fold(m.group()) for m in matches), starts, ends, quoted)


def words(text: str) -> list[str]:
    """Folded word tokens of a short text (no chrome removal): the sklearn analyzer."""
    return [fold(m.group()) for m in _TOKEN.finditer(text)]
