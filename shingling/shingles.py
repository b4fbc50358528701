"""Word k-shingles hashed to 64 bits.

Every token of a text is hashed straight from the text's code points
(``span_hashes``: no Python string or call per token); a shingle's hash
combines the k token hashes of its window positionally (a polynomial in
uint64, wrapping, then the MurmurHash3 64-bit finaliser). The loops are
compiled (``shingling.kernels``).
Distinct shingles collide with probability about n^2 / 2^65: negligible for
articles.
"""

from __future__ import annotations

import numpy as np

from shingling import kernels
from shingling.config import PipelineConfig
from shingling.tokenise import IndexTokens, Tokens, index_tokens


def span_hashes(
    codepoints: np.ndarray, starts: np.ndarray, ends: np.ndarray, seed: int
) -> np.ndarray:
    """Seeded 64-bit hash of each token ``codepoints[start:end]``.

    A token's hash is the polynomial sum of its code points times powers of
    ``kernels.P_TOKEN`` (mod 2^64: the i-th code point of the token times
    ``P_TOKEN**i``); its length and the seed are added and the MurmurHash3
    finaliser mixes the result. Equal strings hash equal wherever they stand.

    Approximate, like any 64-bit hash: two distinct words of natural text
    collide about as rarely as with a keyed hash, but a polynomial mod 2^64
    is not one, and strings can be constructed to collide (the Thue-Morse
    construction). A collision makes two words count as one word.
    """
    hashes: np.ndarray = kernels.span_hashes(codepoints, starts, ends, seeded(seed))
    return hashes


def seeded(seed: int) -> np.uint64:
    """The seed as the token hash mixes it in (``kernels.span_hashes``' last argument)."""
    return np.uint64(seed * int(kernels.C_SEED) % (1 << 64))


def token_hashes(values: tuple[str, ...] | list[str], seed: int) -> np.ndarray:
    """``span_hashes`` of token strings: the same hash a token gets in a text."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    ends = np.cumsum(lengths + 1) - 1
    joined = "\n".join(values).encode("utf-32-le", "surrogatepass")
    return span_hashes(np.frombuffer(joined, dtype="<u4"), ends - lengths, ends, seed)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for a small 1-D array, by sorting (several times faster here)."""
    if len(values) < 2:
        return np.sort(values)
    s = np.sort(values)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


class Shingles:
    """The distinct shingle hashes of a text, sorted, and the subset that
    lies wholly outside direct quotations (the text's own narrative).

    Both sets may be held as windows (any order, repeats kept) and are
    sorted on first use: bulk ingest needs neither sorted 64-bit set (the
    signature takes the windows, ``pack`` sorts their low halves).
    """

    __slots__ = ("_hashes", "_every", "_windows", "_narrative")

    def __init__(self, hashes: np.ndarray, narrative_windows: np.ndarray) -> None:
        self._hashes: np.ndarray | None = hashes
        self._every = hashes
        self._windows = narrative_windows
        self._narrative: np.ndarray | None = None

    @classmethod
    def from_windows(cls, windows: np.ndarray, narrative_windows: np.ndarray) -> Shingles:
        """The shingles of every window's hash (any order, repeats kept)."""
        made = cls(windows, narrative_windows)
        made._hashes = None
        return made

    @property
    def hashes(self) -> np.ndarray:
        if self._hashes is None:
            self._hashes = sorted_unique(self._every)
        return self._hashes

    @property
    def windows(self) -> np.ndarray:
        """Every shingle hash in any order, repeats kept (what ``hashes`` sorts)."""
        return self._every

    @property
    def narrative_windows(self) -> np.ndarray:
        """The narrative hashes in any order, repeats kept (what ``narrative`` sorts)."""
        return self._windows

    @property
    def narrative(self) -> np.ndarray:
        if self._narrative is None:
            self._narrative = sorted_unique(self._windows)
        return self._narrative

    @property
    def empty(self) -> bool:
        return len(self._every) == 0

    def __len__(self) -> int:
        return len(self.hashes)


def shingles_from_tokens(tokens: Tokens, config: PipelineConfig) -> Shingles:
    """Shingles of ``tokenise``'s tokens: the same as the indexing path's."""
    return shingles_from_hashes(token_hashes(tokens.values, config.seed), tokens.quoted, config)


def shingles_from_index_tokens(tokens: IndexTokens, config: PipelineConfig) -> Shingles:
    hashes = span_hashes(tokens.codepoints, tokens.starts, tokens.ends, config.seed)
    return shingles_from_hashes(hashes, tokens.quoted, config)


def shingles_from_hashes(
    hashes: np.ndarray, quoted: np.ndarray, config: PipelineConfig
) -> Shingles:
    """Shingles of token hashes in text order; ``quoted`` flags tokens inside
    quotations (a window is narrative when none of its tokens is quoted).

    A text shorter than ``k`` tokens (but not empty) gives one shingle of all
    its tokens, so that short texts still compare."""
    every, narrative = kernels.windows(hashes, np.asarray(quoted, dtype=bool), config.k)
    return Shingles.from_windows(every, narrative)


PACKED = np.dtype("<u4")  # the stored form of a narrowed shingle hash


def narrow(shingles: Shingles) -> Shingles:
    """The same sets on the low 32 bits of each hash: the form the index stores.

    Scores on narrowed sets are exact up to 32-bit collisions: two distinct
    shingles of a 600-word pair collide with probability about 1e-4, so a
    shared-shingle count is off by one about once in ten thousand pairs.
    """
    low, flags = _narrowed(shingles)
    return Shingles(low, low[flags])


def pack(shingles: Shingles) -> tuple[bytes, bytes]:
    """Bytes of a set as the index stores it: its ``narrow`` hashes (sorted
    uint32), and a bitmap of which are narrative. ``pack(s) == pack(narrow(s))``."""
    low, flags = _narrowed(shingles)
    return low.astype(PACKED, copy=False).tobytes(), np.packbits(flags).tobytes()


def _narrowed(shingles: Shingles) -> tuple[np.ndarray, np.ndarray]:
    """The distinct low halves of the hashes, sorted, and which are narrative."""
    # A cast to uint32 keeps each hash's low 32 bits; sorted in place, no copies.
    low = shingles.windows.astype(np.uint32)
    low.sort()
    marks = shingles.narrative_windows.astype(np.uint32)
    marks.sort()
    narrowed: tuple[np.ndarray, np.ndarray] = kernels.distinct_marked(low, marks)
    return narrowed


def unpack(hashes: bytes, narrative_bits: bytes) -> Shingles:
    """The inverse of ``pack``."""
    values = np.frombuffer(hashes, dtype=PACKED)
    bits = np.unpackbits(np.frombuffer(narrative_bits, dtype=np.uint8), count=len(values))
    return Shingles(values, values[bits.astype(bool)])


def shingle(text: str, config: PipelineConfig) -> Shingles:
    """Normalise, drop chrome, tokenise and shingle ``text``."""
    return shingles_from_index_tokens(index_tokens(text), config)
