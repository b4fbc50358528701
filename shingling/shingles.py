"""Word k-shingles hashed to 64 bits.

Each token is hashed once with seeded xxh3-64; a shingle's hash combines the
k token hashes of its window positionally in numpy (a polynomial in uint64,
wrapping, then the MurmurHash3 64-bit finaliser). Distinct shingles collide
with probability about n^2 / 2^65: negligible for articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash

from shingling.config import PipelineConfig
from shingling.tokenise import Tokens, tokenise

_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier for the polynomial combine
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@lru_cache(maxsize=1 << 18)
def _token_hash(value: str, seed: int) -> int:
    return xxhash.xxh3_64_intdigest(value.encode("utf-8", "surrogatepass"), seed)


def token_hashes(values: tuple[str, ...] | list[str], seed: int) -> np.ndarray:
    """Seeded 64-bit hash of each token (cached: news vocabulary repeats)."""
    return np.fromiter((_token_hash(v, seed) for v in values), dtype=np.uint64, count=len(values))


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


@dataclass(frozen=True)
class Shingles:
    """The distinct shingle hashes of a text, sorted, and the subset that
    lies wholly outside direct quotations (the text's own narrative)."""

    hashes: np.ndarray
    narrative: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)


def shingles_from_tokens(tokens: Tokens, config: PipelineConfig) -> Shingles:
    positional = combine(token_hashes(tokens.values, config.seed), config.k)
    width = min(config.k, len(tokens))
    if len(positional) and width:
        # A window is narrative when none of its tokens is quoted.
        q = np.convolve(tokens.quoted.astype(np.int64), np.ones(width, dtype=np.int64), "valid")
        narrative = positional[q == 0]
    else:
        narrative = positional
    return Shingles(np.unique(positional), np.unique(narrative))


def shingle(text: str, config: PipelineConfig) -> Shingles:
    """Normalise, drop chrome, tokenise and shingle ``text``."""
    return shingles_from_tokens(tokenise(text), config)
