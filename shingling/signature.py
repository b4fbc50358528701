"""MinHash signatures (datasketch's "affine32" scheme, computed in bulk).

The permutations are datasketch's own, drawn once from ``config.seed``; the
per-shingle work is a compiled loop (``shingling.kernels.minhash``), the same
arithmetic as ``datasketch.MinHash.update_batch`` (``_fmix`` pre-mix, then
``a*h + b`` mod 2^32). ``test_signature`` checks the values equal datasketch's bit for bit.
Jaccard estimated from two signatures has standard error about
``sqrt(J(1-J)/num_perm)``: an estimate, never the answer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash

from shingling import kernels
from shingling.config import PipelineConfig

SIG_DTYPE = np.dtype("<u4")


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def to_hash32(shingle_hashes: np.ndarray) -> np.ndarray:
    """The 32-bit input values of the affine32 scheme: the low half of each hash."""
    return (shingle_hashes & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def signature(shingle_hashes: np.ndarray, config: PipelineConfig) -> np.ndarray:
    """MinHash signature (``num_perm`` uint32) of a set of 64-bit shingle hashes
    (in any order; repeats change nothing, as each slot is a minimum)."""
    a, b = permutations(config.num_perm, config.seed)
    sig: np.ndarray = kernels.minhash(np.asarray(shingle_hashes, dtype=np.uint64), a, b)
    return sig


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
    rows = np.ascontiguousarray(sig, dtype=np.uint32).reshape(-1, sig.shape[-1])
    keys: np.ndarray = kernels.band_keys(rows, config.b, config.r)
    return keys.reshape(*lead, config.b)
