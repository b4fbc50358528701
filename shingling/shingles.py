"""Word k-shingles hashed to 64 bits.

Each token is hashed once with seeded xxh3-64; a shingle's hash combines the
k token hashes of its window positionally in numpy (a polynomial in uint64,
wrapping, then the MurmurHash3 64-bit finaliser). Distinct shingles collide
with probability about n^2 / 2^65: negligible for articles.
"""

from __future__ import annotations

import numpy as np
import xxhash

from shingling.config import PipelineConfig
from shingling.tokenise import Tokens, token_values

_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier for the polynomial combine
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


#: Per seed, token -> 64-bit hash. News vocabulary repeats, so most tokens are
#: found here; the cache is emptied when it reaches _CACHE_LIMIT entries.
_TOKEN_CACHE: dict[int, dict[str, int]] = {}
_CACHE_LIMIT = 1 << 20


def token_hashes(values: tuple[str, ...] | list[str], seed: int) -> np.ndarray:
    """Seeded 64-bit xxh3 hash of each token."""
    cache = _TOKEN_CACHE.setdefault(seed, {})
    try:
        return np.fromiter(map(cache.__getitem__, values), dtype=np.uint64, count=len(values))
    except KeyError:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for value in set(values).difference(cache):
            cache[value] = xxhash.xxh3_64_intdigest(value.encode("utf-8", "surrogatepass"), seed)
        return np.fromiter(map(cache.__getitem__, values), dtype=np.uint64, count=len(values))


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
    return h ^ (h >> _S33)


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
    return shingles_from_values(tokens.values, tokens.quoted, config)


def shingles_from_values(
    values: tuple[str, ...] | list[str], quoted: np.ndarray, config: PipelineConfig
) -> Shingles:
    """Shingles of folded token values; ``quoted`` flags tokens inside quotations."""
    positional = combine(token_hashes(values, config.seed), config.k)
    width = min(config.k, len(values))
    narrative = positional
    if len(positional) and width and quoted.any():
        # A window is narrative when none of its tokens is quoted.
        q = np.convolve(quoted.astype(np.int64), np.ones(width, dtype=np.int64), "valid")
        narrative = positional[q == 0]
    return Shingles(sorted_unique(positional), narrative)


_LOW32 = np.uint64(0xFFFFFFFF)
_PACKED = np.dtype("<u4")


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
    return narrowed.hashes.astype(_PACKED).tobytes(), np.packbits(flags).tobytes()


def unpack(hashes: bytes, narrative_bits: bytes) -> Shingles:
    """The inverse of ``pack``."""
    values = np.frombuffer(hashes, dtype=_PACKED)
    bits = np.unpackbits(np.frombuffer(narrative_bits, dtype=np.uint8), count=len(values))
    return Shingles(values, values[bits.astype(bool)])


def shingle(text: str, config: PipelineConfig) -> Shingles:
    """Normalise, drop chrome, tokenise and shingle ``text``."""
    return shingles_from_values(*token_values(text), config)
