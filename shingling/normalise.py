"""Text normalisation: Unicode NFKC, case folding, typographic quotes and
dashes folded to ASCII, whitespace collapsed.

Normalisation is applied per token (see ``shingling.tokenise``) so that
character offsets always point into the caller's original text; ``normalise``
applies the same folding to a whole text, for display and text identity.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import numpy as np

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\ufeff": "",
        "\u00ad": "",
    }
)
_FOLD_MAP = {chr(c): str(v or "") for c, v in _FOLD.items()}
_FOLDED = re.compile("[" + re.escape("".join(_FOLD_MAP)) + "]")
_WS = re.compile(r"\s+")


def _fold_char(m: re.Match[str]) -> str:
    return _FOLD_MAP[m.group()]


def fold(text: str) -> str:
    """NFKC, typographic quotes and dashes to ASCII, then case folding."""
    # Fast paths, same result: ASCII is NFKC already, and substituting the few
    # typographic characters beats str.translate over the whole text.
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return fold_normalised(text)


def fold_normalised(text: str) -> str:
    """``fold`` of a text that is NFKC already: a mapping of each character on its own."""
    return _FOLDED.sub(_fold_char, text).casefold()


def normalise(text: str) -> str:
    """``fold`` the whole text and collapse runs of whitespace to one space."""
    return _WS.sub(" ", fold(text)).strip()


@lru_cache(maxsize=1)
def whitespace_table() -> np.ndarray:
    """Which code points of the BMP are whitespace (``str.isspace``; Unicode has
    none above it): the compiled kernels' view of whitespace."""
    return np.array([chr(c).isspace() for c in range(0x10000)], dtype=bool)


#: ``FoldTable.lengths`` of a character the table cannot fold in context.
FOLD_UNSAFE = 255


class FoldTable(NamedTuple):
    """``fold`` one character at a time, for the BMP: character ``c`` folds to
    ``chars[starts[c] : starts[c] + lengths[c]]`` (several for "\u2026", none
    for a zero-width space), or is ``FOLD_UNSAFE``."""

    lengths: np.ndarray  # uint8
    starts: np.ndarray  # uint32
    chars: np.ndarray  # uint32, all in the BMP


@lru_cache(maxsize=1)
def fold_table() -> FoldTable:
    """The table of the compiled fold (``shingling.kernels.fold_pieces``).

    Folding a text is NFKC, then a per-character mapping. NFKC of a text is
    the concatenation of its characters' NFKC when no character can combine
    with or reorder around its neighbours; a character is safe when it is a
    starter (combining class 0), its NFKC begins with a starter, and neither
    it nor that first character is the second half of a canonical
    composition (Hangul jamo included). A text of safe characters folds
    character by character, so only the others are ``FOLD_UNSAFE``: combining
    marks, jamo, surrogates, and folds reaching above the BMP.
    """
    size = 0x10000
    seconds = _composition_seconds()
    lengths = np.full(size, FOLD_UNSAFE, dtype=np.uint8)
    starts = np.zeros(size, dtype=np.uint32)
    chars: list[int] = []
    for c in range(size):
        if 0xD800 <= c < 0xE000 or c in seconds or unicodedata.combining(chr(c)):
            continue
        nfkc = unicodedata.normalize("NFKC", chr(c))
        if unicodedata.combining(nfkc[0]) or ord(nfkc[0]) in seconds:
            continue
        folded = [ord(x) for x in fold_normalised(nfkc)]
        if len(folded) >= FOLD_UNSAFE or any(x >= size for x in folded):
            continue
        lengths[c], starts[c] = len(folded), len(chars)
        chars.extend(folded)
    return FoldTable(lengths, starts, np.array(chars, dtype=np.uint32))


def _composition_seconds() -> frozenset[int]:
    """Every character of the BMP that can compose with the one before it under NFC."""
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T
    # Composites above the BMP decompose into characters above it (checked in
    # the tests), and the table only holds the BMP: scanning it is enough.
    for c in range(0x10000):
        parts = unicodedata.decomposition(chr(c)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    return frozenset(seconds)


# C0 control characters but tab and newline, and DEL: what scraped text carries
# by accident (13 of PAN 2013's ~6,400 documents hold a NUL).
_CONTROLS = {c: " " for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]}


def scrub_controls(text: str) -> str:
    """``text`` with each control character (C0 but tab and newline, and DEL)
    replaced by a space: one character for one, so offsets are kept."""
    if text.isprintable() or not any(ord(c) < 0x20 or c == "\x7f" for c in text):
        return text
    return text.translate(_CONTROLS)
