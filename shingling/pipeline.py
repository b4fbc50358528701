"""The whole text pipeline for one article, as one pure function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shingling.config import PipelineConfig
from shingling.shingles import Shingles, shingles_from_index_tokens
from shingling.signature import band_keys, signature
from shingling.tokenise import index_tokens


@dataclass(frozen=True)
class Analysis:
    """What the index needs of a text: its shingles, signature and band keys."""

    shingles: Shingles
    signature: np.ndarray  # (num_perm,) uint32
    bands: np.ndarray  # (b,) uint32 bucket keys

    @property
    def empty(self) -> bool:
        return self.shingles.empty


def analyse(text: str, config: PipelineConfig) -> Analysis:
    """normalise -> drop chrome -> tokenise -> shingle -> MinHash -> LSH band keys."""
    shingles = shingles_from_index_tokens(index_tokens(text), config)
    sig = signature(shingles.windows, config)  # a minimum: repeats change nothing
    return Analysis(shingles, sig, band_keys(sig, config))


def warm_up(config: PipelineConfig) -> None:
    """Run every compiled kernel once on a short text, so that a service's
    first request does not wait for them: they are compiled on the first run
    after install (seconds) and loaded from numba's cache after that."""
    from shingling.score import compare_packed
    from shingling.shingles import narrow, pack

    text = 'The minister said "we will see" on Friday, and left the 10,000-seat hall.'
    query = narrow(analyse(text, config).shingles)
    compare_packed(query, [pack(query)])
