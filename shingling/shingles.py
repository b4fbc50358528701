"""Word k-shingles hashed to 64 bits.

Every token of a text is hashed at once, from prefix sums over the text's
code points (``span_hashes``: no Python string or call per token); a
shingle's hash combines the k token hashes of its window positionally (a
polynomial in uint64, wrapping, then the MurmurHash3 64-bit finaliser).
Distinct shingles collide with probability about n^2 / 2^65: negligible for
articles.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from shingling.config import PipelineConfig
from shingling.tokenise import IndexTokens, Tokens, index_tokens

_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier for the polynomial combine
_P_TOKEN = np.uint64(0xC2B2AE3D27D4EB4F)  # odd multiplier for a token's code points
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


_C_LEN = np.uint64(0xD6E8FEB86659FD93)  # mixes a token's length into its hash
_C_SEED = np.uint64(0xA0761D6478BD642F)  # ... and the seed


@lru_cache(maxsize=8)
def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``_P_TOKEN**i`` and ``_P_TOKEN**-i`` (mod 2^64) for i < n (odd: invertible)."""
    up = np.full(n, _P_TOKEN, dtype=np.uint64)
    down = np.full(n, pow(int(_P_TOKEN), -1, 1 << 64), dtype=np.uint64)
    up[0] = down[0] = 1
    return np.cumprod(up, dtype=np.uint64), np.cumprod(down, dtype=np.uint64)


def span_hashes(
    codepoints: np.ndarray, starts: np.ndarray, ends: np.ndarray, seed: int
) -> np.ndarray:
    """Seeded 64-bit hash of each token ``codepoints[start:end]``, all at once.

    A token's hash is the polynomial sum of its code points times powers of
    ``_P_TOKEN`` (mod 2^64), read off prefix sums of the whole text: the prefix
    sum difference over the span, shifted back by ``_P_TOKEN**-start``. Its
    length and the seed are added and the MurmurHash3 finaliser mixes the
    result. Equal strings hash equal wherever they stand.

    Approximate, like any 64-bit hash: two distinct words of natural text
    collide about as rarely as with a keyed hash, but a polynomial mod 2^64
    is not one, and strings can be constructed to collide (the Thue-Morse
    construction). A collision makes two words count as one word.
    """
    n = len(codepoints)
    if not len(starts):
        return np.empty(0, dtype=np.uint64)
    size = 1 << max(10, n.bit_length())  # a few sizes cached, not one per text length
    up, down = _powers(size)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codepoints * up[:n], out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * down[starts]
    length = (ends - starts).astype(np.uint64)
    seeded = np.uint64(seed * int(_C_SEED) % (1 << 64))
    return _fmix64(poly + length * _C_LEN + seeded)


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


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    mixed: np.ndarray = h ^ (h >> _S33)
    return mixed


def combine(hashes: np.ndarray, k: int) -> np.ndarray:
    """Hash of every window of ``k`` consecutive token hashes, in order.

    A text shorter than ``k`` tokens (but not empty) gives one shingle of all
    its tokens, so that short texts still compare.
    """
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    width = min(k, n)
    out = np.zeros(n - width + 1, dtype=np.uint64)
    for i in range(width):
        out = out * _P + hashes[i : n - width + 1 + i]
    return _fmix64(out + np.uint64(width))


class Shingles:
    """The distinct shingle hashes of a text, sorted, and the subset that
    lies wholly outside direct quotations (the text's own narrative).

    The narrative set is sorted on first use: bulk ingest never needs it.
    """

    __slots__ = ("hashes", "_windows", "_narrative")

    def __init__(self, hashes: np.ndarray, narrative_windows: np.ndarray) -> None:
        self.hashes = hashes
        self._windows = narrative_windows
        self._narrative: np.ndarray | None = None

    @property
    def narrative(self) -> np.ndarray:
        if self._narrative is None:
            self._narrative = sorted_unique(self._windows)
        return self._narrative

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
    """Shingles of token hashes in text order; ``quoted`` flags tokens inside quotations."""
    positional = combine(hashes, config.k)
    width = min(config.k, len(hashes))
    narrative = positional
    if len(positional) and width and quoted.any():
        # A window is narrative when none of its tokens is quoted.
        q = np.convolve(quoted.astype(np.int64), np.ones(width, dtype=np.int64), "valid")
        narrative = positional[q == 0]
    return Shingles(sorted_unique(positional), narrative)


_LOW32 = np.uint64(0xFFFFFFFF)
PACKED = np.dtype("<u4")  # the stored form of a narrowed shingle hash


def narrow(shingles: Shingles) -> Shingles:
    """The same sets on the low 32 bits of each hash: the form the index stores.

    Scores on narrowed sets are exact up to 32-bit collisions: two distinct
    shingles of a 600-word pair collide with probability about 1e-4, so a
    shared-shingle count is off by one about once in ten thousand pairs.
    """
    return Shingles(
        sorted_unique((shingles.hashes & _LOW32).astype(np.uint32)),
        (shingles.narrative & _LOW32).astype(np.uint32),
    )


def pack(narrowed: Shingles) -> tuple[bytes, bytes]:
    """Bytes of a narrowed set: sorted uint32 hashes, and a bitmap of which are narrative."""
    # narrative is a subset of hashes, both sorted: mark its positions.
    flags = np.zeros(len(narrowed.hashes), dtype=bool)
    flags[np.searchsorted(narrowed.hashes, narrowed.narrative)] = True
    return narrowed.hashes.astype(PACKED).tobytes(), np.packbits(flags).tobytes()


def unpack(hashes: bytes, narrative_bits: bytes) -> Shingles:
    """The inverse of ``pack``."""
    values = np.frombuffer(hashes, dtype=PACKED)
    bits = np.unpackbits(np.frombuffer(narrative_bits, dtype=np.uint8), count=len(values))
    return Shingles(values, values[bits.astype(bool)])


def shingle(text: str, config: PipelineConfig) -> Shingles:
    """Normalise, drop chrome, tokenise and shingle ``text``."""
    return shingles_from_index_tokens(index_tokens(text), config)
