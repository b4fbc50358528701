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
