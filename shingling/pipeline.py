"""The whole text pipeline for one article, as one pure function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shingling import kernels
from shingling.chrome import short_line_args
from shingling.config import PipelineConfig
from shingling.passages import fingerprints
from shingling.shingles import Shingles, seeded, shingles_from_index_tokens
from shingling.signature import band_keys, permutations, signature
from shingling.tokenise import PIECE_BREAK, fold_args, index_tokens


@dataclass(frozen=True)
class Analysis:
    """What the index needs of a text: its shingles, signature, band keys and
    passage fingerprints."""

    shingles: Shingles
    signature: np.ndarray  # (num_perm,) uint32
    bands: np.ndarray  # (b,) uint32 bucket keys
    fingerprints: np.ndarray  # sorted distinct uint32 (shingling.passages)

    @property
    def empty(self) -> bool:
        return self.shingles.empty


def analyse(text: str, config: PipelineConfig) -> Analysis:
    """normalise -> drop chrome -> tokenise -> shingle -> MinHash -> LSH band keys,
    and the shingles winnowed into passage fingerprints.

    Most news text runs through all of it in one compiled call
    (``kernels.sketch``); a text that may hold page chrome, holds a NUL, or
    that the fold table cannot fold alone goes stage by stage
    (``analyse_staged``), and both give the same analysis (tested).
    """
    if PIECE_BREAK not in text:  # index_tokens masks it first, on the staged path
        done, every, narrative, sig, bands = sketch(text, config)
        if done == kernels.SKETCHED:
            shingles = Shingles.from_windows(every, narrative)
            return Analysis(shingles, sig, bands, fingerprints(shingles, config))
    return analyse_staged(text, config)


def sketch(
    text: str, config: PipelineConfig
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``kernels.sketch`` of ``text``: what it did (``SKETCHED`` or the reason
    it handed the text back), the windows, narrative windows, signature, bands."""
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    a, b = permutations(config.num_perm, config.seed)
    made: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray] = kernels.sketch(
        codepoints,
        *short_line_args(),
        fold_args(),
        seeded(config.seed),
        config.k,
        a,
        b,
        config.b,
        config.r,
    )
    return made


def analyse_staged(text: str, config: PipelineConfig) -> Analysis:
    """``analyse`` one stage at a time: the reference, and the path for texts
    ``kernels.sketch`` hands back."""
    shingles = shingles_from_index_tokens(index_tokens(text), config)
    sig = signature(shingles.windows, config)  # a minimum: repeats change nothing
    return Analysis(shingles, sig, band_keys(sig, config), fingerprints(shingles, config))


def warm_up(config: PipelineConfig) -> None:
    """Run every compiled kernel once on a short text, so that a service's
    first request does not wait for them: they are compiled on the first run
    after install (seconds) and loaded from numba's cache after that."""
    from shingling.score import compare_packed
    from shingling.shingles import narrow, pack

    text = 'The minister said "we will see" on Friday, and left the 10,000-seat hall.'
    query = narrow(analyse(text, config).shingles)
    compare_packed(query, [pack(query)])
