"""MinHash signatures (datasketch's "affine32" scheme, computed in bulk).

The permutations are datasketch's own, drawn once from ``config.seed``; the
per-shingle work is one vectorised numpy expression, the same arithmetic as
``datasketch.MinHash.update_batch`` (``_fmix`` pre-mix, then ``a*h + b`` mod
2^32). ``test_signature`` checks the values equal datasketch's bit for bit.
Jaccard estimated from two signatures has standard error about
``sqrt(J(1-J)/num_perm)``: an estimate, never the answer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash
from datasketch.minhash import _fmix

from shingling.config import PipelineConfig

SIG_DTYPE = np.dtype("<u4")
_EMPTY = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def to_hash32(shingle_hashes: np.ndarray) -> np.ndarray:
    """The 32-bit input values of the affine32 scheme: the low half of each hash."""
    return (shingle_hashes & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def signature(shingle_hashes: np.ndarray, config: PipelineConfig) -> np.ndarray:
    """MinHash signature (``num_perm`` uint32) of a set of 64-bit shingle hashes."""
    a, b = permutations(config.num_perm, config.seed)
    if len(shingle_hashes) == 0:
        return np.full(config.num_perm, _EMPTY, dtype=SIG_DTYPE)
    hv = _fmix(to_hash32(shingle_hashes), 32)
    b_col = b.reshape(-1, 1)
    # (num_perm x n), reduced along the contiguous axis; chunked so a very long
    # text never builds one huge matrix.
    out = np.full(config.num_perm, _EMPTY, dtype=np.uint32)
    for i in range(0, len(hv), 4096):
        m = np.multiply.outer(a, hv[i : i + 4096])
        m += b_col
        np.minimum(out, m.min(axis=1), out=out)
    return out.astype(SIG_DTYPE)


def as_minhash(sig: np.ndarray, config: PipelineConfig) -> LeanMinHash:
    """A datasketch ``LeanMinHash`` over a stored signature (for its API and maths)."""
    return LeanMinHash(
        MinHash(
            seed=config.seed,
            hashvalues=sig.astype(np.uint32),
            permutations=np.array(permutations(config.num_perm, config.seed)),
            scheme="affine32",
        )
    )


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """MinHash estimate of Jaccard: the share of equal signature slots."""
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(sig: np.ndarray, config: PipelineConfig) -> np.ndarray:
    """One 32-bit bucket key per band: a hash of the band's ``r`` rows.

    Two signatures share a bucket in band ``i`` when their rows agree (or, with
    probability 2^-32, by collision; candidates are verified anyway).
    Works on one signature (shape ``(num_perm,)`` -> ``(b,)``) or a matrix of
    them (``(n, num_perm)`` -> ``(n, b)``), so the batch job bands in bulk.
    """
    lead = sig.shape[:-1]
    rows = sig[..., : config.b * config.r].astype(np.uint64).reshape(*lead, config.b, config.r)
    h = np.zeros((*lead, config.b), dtype=np.uint64)
    for j in range(config.r):
        h = h * np.uint64(0x100000001B3) + rows[..., j]
    mixed: np.ndarray = _fmix(h + np.arange(config.b, dtype=np.uint64), 64)  # datasketch is untyped
    return (mixed >> np.uint64(32)).astype(np.uint32)
