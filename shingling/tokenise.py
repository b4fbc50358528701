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

from shingling import kernels
from shingling.chrome import mask_chrome, may_have_chrome
from shingling.normalise import fold, fold_table, whitespace_table

# Words, keeping internal apostrophes, hyphens, points and commas together:
# "People's", "Tae-yul", "10,000", "3.5", "U.S". (A point or comma joins only
# when no space follows it, which in running text means inside a token.)
# No possessive quantifiers: CPython 3.11.0-3.11.4 (Debian 12's 3.11.2 among
# them) mis-match `(?:...)*+` (gh-106052) and keep a trailing joiner: "Hello,"
# for "Hello". Backtracking here is linear anyway: a joiner is not a word character.
_TOKEN = re.compile(r"\w+(?:[-'\u2019.,]\w+)*")
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

    Quotes are paired within a paragraph, as news style closes them there.
    A mark's role is read from its sides: with a word on its right only it
    can open a quotation, with a word on its left only close one (so the
    second mark of an emptied link text, ``""``, or an inch mark does not
    open a quotation that runs on); a mark with words or spaces on both sides
    is read by its glyph, or pairs with the mark before it. A second opening
    mark before a closing one means the first was a stray, and the quotation
    starts again there; when the second mark opens a line, the first
    quotation ran to that line break (a quote over paragraphs cut by single
    line breaks). An unclosed quote runs to the end of its paragraph
    only when the next paragraph reopens it (news style for a quote over
    several paragraphs); otherwise, as at the end of the text, its mark is
    taken for a stray and nothing is quoted. Single quotes are ignored: they
    are mostly apostrophes. Approximate by nature: scraped pages lose link
    texts and truncate blurbs, which leaves marks unpaired.
    """
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    rows = kernels.quote_spans(codepoints, whitespace_table()).tolist()
    return [(start, end) for start, end in rows]


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


# -- the indexing path: tokens found in arrays of code points -----------------
_JOINERS = "-'\u2019.,"  # the characters _TOKEN lets stand between two word runs
PIECE_BREAK = "\0"  # joins pieces: not a word character, not a joiner, not text
_OTHER, _WORD, _JOINER = 0, kernels.WORD, kernels.JOINER  # classes of the compiled scan


@lru_cache(maxsize=1)
def _bmp_classes() -> np.ndarray:
    """The class of every code point of the Basic Multilingual Plane: a word
    character by ``re``'s own ``\\w``, a joiner, or other."""
    every = "".join(map(chr, range(0x10000)))
    marked = re.sub(r"\W", "\0", every)  # keeps length: one character for one
    words = np.frombuffer(marked.encode("utf-32-le", "surrogatepass"), dtype="<u4") != 0
    # NUL (code 0) is other either way.
    classes: np.ndarray = np.where(words, _WORD, _OTHER).astype(np.uint8)
    classes[[ord(c) for c in _JOINERS]] = _JOINER
    return classes


def _classes(codepoints: np.ndarray) -> np.ndarray:
    table = _bmp_classes()
    if not len(codepoints) or int(codepoints.max()) < len(table):
        looked_up: np.ndarray = table[codepoints]
        return looked_up
    out = np.zeros(len(codepoints), dtype=np.uint8)
    low = codepoints < len(table)
    out[low] = table[codepoints[low]]
    for c in np.unique(codepoints[~low]).tolist():  # rare: ask re about each one
        out[codepoints == c] = _WORD if re.match(r"\w", chr(c)) else _OTHER
    return out


def word_spans(codepoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the ``_TOKEN`` matches in a text given as code points.

    The same tokens as ``_TOKEN.findall`` (tested on random text), found by
    one compiled scan instead of one Python string per token: a character is
    in a token when it is a word character, or a joiner between two of them.
    """
    starts, ends, _ = kernels.scan_words(_classes(codepoints), codepoints)
    return starts, ends


@dataclass(frozen=True)
class IndexTokens:
    """Tokens of the indexing path: spans into ``codepoints``, the folded,
    chrome-free text (pieces joined by NULs), and quotation flags."""

    codepoints: np.ndarray  # uint32
    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def values(self) -> list[str]:
        """The token strings (for tests and inspection; indexing never builds them)."""
        text = self.codepoints.tobytes().decode("utf-32-le", "surrogatepass")
        return [text[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]


def index_tokens(text: str) -> IndexTokens:
    """The folded tokens of ``text`` and their quotation flags, without offsets
    into ``text``: the indexing path.

    The text is cut at the quotation spans (whose ends are quotation marks or
    paragraph breaks, so no token is split); each piece is folded whole, and
    the pieces are tokenised together as code points. This gives
    ``tokenise``'s values except where folding itself changes a word boundary
    (a soft hyphen inside a word is dropped, joining its halves), which is the
    better reading anyway.

    Cutting, folding and classifying run as one compiled pass
    (``kernels.fold_pieces``) when every character of the text can be folded
    on its own (``shingling.normalise.fold_table``: all but combining marks,
    jamo and characters above the BMP); otherwise ``_index_tokens_python``,
    which gives the same tokens (tested).
    """
    source = text
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if may_have_chrome(codepoints) or PIECE_BREAK in text:
        source = mask_chrome(text)
        # NUL is not text: keep it free to mark where pieces end.
        source = source.replace(PIECE_BREAK, " ")
        codepoints = np.frombuffer(source.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    folded, classes, piece_quoted, ok, _ = kernels.fold_pieces(codepoints, *fold_args())
    if not ok:
        return _index_tokens_python(source)
    starts, ends, piece = kernels.scan_words(classes, folded)
    return IndexTokens(folded, starts, ends, piece_quoted[piece])


def fold_args() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arguments of ``kernels.fold_pieces`` after the code points."""
    return (whitespace_table(), *fold_table(), _bmp_classes())


def _index_tokens_python(source: str) -> IndexTokens:
    """``index_tokens`` of a chrome-masked, NUL-free text, folded by ``fold``."""
    pieces: list[str] = []
    quoted_piece: list[bool] = []  # pieces alternate outside/inside quotes
    pos = 0
    for s, e in [*quote_spans(source), (len(source), len(source))]:
        for lo, hi, inside in ((pos, s, False), (s, e, True)):
            if hi > lo:
                pieces.append(source[lo:hi])
                quoted_piece.append(inside)
        pos = e
    # One fold for all pieces: NUL is left alone by folding and composes with
    # nothing, so this is the pieces folded one by one, joined by NULs.
    joined = fold(PIECE_BREAK.join(pieces))
    codepoints = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    # A token lies in the piece after as many breaks (NULs) as precede it.
    starts, ends, piece = kernels.scan_words(_classes(codepoints), codepoints)
    quoted = np.array(quoted_piece, dtype=bool)[piece] if pieces else np.zeros(0, dtype=bool)
    return IndexTokens(codepoints, starts, ends, quoted)


def words(text: str) -> list[str]:
    """Folded word tokens of a short text (no chrome removal): the sklearn analyzer."""
    return list(map(_fold, _TOKEN.findall(text)))
