"""Shared passages: winnowed fingerprints to find them, offsets to show them.

Whole-document MinHash retrieves by Jaccard, so a wire passage that is 3 % of
a long page is invisible to it. ``fingerprints`` keeps a small, position-
independent sample of a text's shingles (winnowing: Schleimer, Wilkerson and
Aiken, SIGMOD 2003) whose guarantee does not depend on the texts' lengths:
two texts that share a run of at least ``config.guaranteed_run`` words share
a fingerprint. The index keeps them in an inverted index beside the LSH bands.

``shared_passages`` then says where two texts share running text, as
character offsets into both, and what share of each the passages cover. It
re-tokenises both texts (the offsets need the original characters; ~0.1 ms
a news article, compiled), so it is for the matches a query reports, not for
candidate generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shingling import kernels
from shingling.chrome import mask_chrome, may_have_chrome, short_line_args
from shingling.config import PipelineConfig
from shingling.shingles import PACKED, Shingles, seeded, sorted_unique, token_hashes
from shingling.tokenise import PIECE_BREAK, fold_args, tokenise


def fingerprints(shingles: Shingles, config: PipelineConfig) -> np.ndarray:
    """The winnowed fingerprints of a text: sorted, distinct uint32.

    Winnowing runs over the low 32 bits of every shingle in text order (the
    stored form of a shingle hash, ``shingles.narrow``), quotations included:
    on PAN 2013 verbatim reuse, fingerprints of narrative shingles alone found
    81 % of the pairs, of every shingle 99.7 % (docs/matching.md), because
    reused text quotes as much as any other. Shared quotations are kept apart
    from copied narrative by the verdict, not here.

    About ``2 / (winnow + 1)`` of the shingles are kept. 32-bit values: two
    unrelated shingles share a fingerprint value by chance about once per
    2^32 pairs of shingles, which at most adds a candidate to verify.
    None at all when ``config.winnow`` is 0 (no passage index).
    """
    if not config.passages:
        return np.empty(0, PACKED)
    return sorted_unique(kernels.winnow(shingles.windows.astype(PACKED), config.winnow))


@dataclass(frozen=True)
class Passage:
    """A run of text two articles share: ``[start, end)`` character offsets
    into each text, and its length in words (as the first text counts them)."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    words: int


@dataclass(frozen=True)
class SharedText:
    """Where two texts share running text, and how much of each it covers.

    ``a_share`` / ``b_share``: the share of each text's words that lie inside
    a shared passage (0..1). Unlike containment (a share of shingles) these
    read as "how much of this article came from the other".
    """

    passages: list[Passage]
    a_share: float
    b_share: float


@dataclass(frozen=True)
class Located:
    """A text's tokens as character spans of the text, and the shingle hash
    of every window of ``k`` of them in text order (window ``i`` covers
    tokens ``i .. i+k-1``): what locating passages needs of one side."""

    starts: np.ndarray  # int64 offsets into the text
    ends: np.ndarray
    windows: np.ndarray  # uint64, len(starts) - k + 1 (0 when shorter than k)

    def __len__(self) -> int:
        return len(self.starts)

    @cached_property
    def order(self) -> np.ndarray:
        """A stable argsort of ``windows`` (made once, for a text compared with many)."""
        order: np.ndarray = np.argsort(self.windows, kind="mergesort")
        return order

    @cached_property
    def sorted_windows(self) -> np.ndarray:
        ordered: np.ndarray = self.windows[self.order]
        return ordered


def locate(text: str, config: PipelineConfig) -> Located:
    """``text``'s tokens with their offsets and window hashes.

    The indexing path's own tokens and hashes (``shingling.tokenise.index_tokens``,
    chrome masked, folded in one compiled pass), mapped back to the text by
    the fold's offsets; a text the fold table cannot fold alone goes through
    ``tokenise`` (the same tokens, in Python: ~10x slower).
    """
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if may_have_chrome(codepoints) or PIECE_BREAK in text:  # both keep offsets
        source = mask_chrome(text).replace(PIECE_BREAK, " ")
        codepoints = np.frombuffer(source.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    ok, token_starts, token_ends, every = kernels.located_tokens(
        codepoints, fold_args(), seeded(config.seed), config.k
    )
    if ok:
        return Located(token_starts, token_ends, every)
    tokens = tokenise(text)
    hashes = token_hashes(tokens.values, config.seed)
    if len(hashes) < config.k:
        return Located(tokens.starts, tokens.ends, np.empty(0, np.uint64))
    every, _ = kernels.windows(hashes, np.zeros(len(hashes), dtype=bool), config.k)
    return Located(tokens.starts, tokens.ends, every)


def _runs(a: Located, b: Located, gap: int) -> np.ndarray:
    """Runs of windows ``a[i..i2] == b[j..j2]`` position by position, joined
    across gaps of at most ``gap`` windows in both texts (one changed word
    breaks ``k`` windows): rows ``(i, i2, j, j2)`` inclusive, in ``a``'s order.
    Each window of ``a`` is placed at its first occurrence in ``b``
    (``kernels.shared_runs_sorted``, with ``a``'s windows sorted once)."""
    runs: np.ndarray = kernels.shared_runs_sorted(a.sorted_windows, a.order, b.windows, gap)
    return runs


def _merge(spans: list[list[int]]) -> list[list[int]]:
    """Token spans ``[i, i_end, j, j_end]`` in ``a``'s order, each joined with
    the one before when they touch or overlap in both texts."""
    out: list[list[int]] = []
    for span in spans:
        if out:
            prev = out[-1]
            if span[0] <= prev[1] + 1 and prev[2] <= span[2] <= prev[3] + 1:
                prev[1], prev[3] = max(prev[1], span[1]), max(prev[3], span[3])
                continue
        out.append(list(span))
    return out


def shared_passages(
    a_text: str | Located,
    b_text: str | Located,
    config: PipelineConfig,
    *,
    min_words: int | None = None,
) -> SharedText:
    """The passages ``a_text`` and ``b_text`` share, with offsets into both.

    A passage is a run of equal word ``k``-shingles in the same order in
    both texts, bridged across a few changed words (up to ``k`` windows).
    Runs shorter than ``min_words`` (default ``2 * k``: an idiom or a name
    is not a passage) are left out. Approximate where a text repeats itself:
    each shingle of ``a`` is placed at its first occurrence in ``b``.
    Either side may be given ``locate``d already (a query against many).
    """
    min_words = 2 * config.k if min_words is None else min_words
    la = a_text if isinstance(a_text, Located) else locate(a_text, config)
    lb = b_text if isinstance(b_text, Located) else locate(b_text, config)
    return _shared_text(la, lb.starts, lb.ends, _runs(la, lb, config.k), config.k, min_words)


def shared_passages_many(
    query: Located, texts: Sequence[str], config: PipelineConfig, *, min_words: int | None = None
) -> list[SharedText]:
    """``shared_passages(query, text, config)`` of each of ``texts``: the same
    results, with every text located and compared in one compiled call
    (``kernels.match_runs``) instead of a few calls and their glue per text.
    A text that may hold page chrome, holds a piece break or that the fold
    table cannot fold alone goes through ``shared_passages`` on its own."""
    min_words = 2 * config.k if min_words is None else min_words
    if not len(query):
        return [SharedText([], 0.0, 0.0) for _ in texts]
    out: list[SharedText | None] = [None] * len(texts)
    fast = [t for t, text in enumerate(texts) if PIECE_BREAK not in text]
    if fast:
        bounds = np.zeros(len(fast) + 1, np.int64)
        np.cumsum([len(texts[t]) for t in fast], out=bounds[1:])
        joined = "".join(texts[t] for t in fast).encode("utf-32-le", "surrogatepass")
        status, tokens, starts, ends, runs, runs_of = kernels.match_runs(
            np.frombuffer(joined, dtype="<u4"),
            bounds,
            short_line_args(),
            fold_args(),
            seeded(config.seed),
            config.k,
            (query.sorted_windows, query.order),
            config.k,
        )
        tok_at = np.concatenate(([0], np.cumsum(tokens)))
        run_at = np.concatenate(([0], np.cumsum(runs_of)))
        for f, t in enumerate(fast):
            if status[f] == kernels.SKETCHED:
                span = slice(tok_at[f], tok_at[f + 1])
                rows = runs[run_at[f] : run_at[f + 1]]
                out[t] = _shared_text(query, starts[span], ends[span], rows, config.k, min_words)
    return [
        done if done is not None else shared_passages(query, texts[t], config, min_words=min_words)
        for t, done in enumerate(out)
    ]


def _shared_text(
    la: Located,
    b_starts: np.ndarray,
    b_ends: np.ndarray,
    runs: np.ndarray,
    k: int,
    min_words: int,
) -> SharedText:
    """The passages of ``runs`` (``_runs`` rows) between ``la`` and a text of
    token spans ``b_starts``/``b_ends``, with both shares."""
    if not len(la) or not len(b_starts):
        return SharedText([], 0.0, 0.0)
    last = k - 1
    # Token spans of each run; runs that touch or overlap in both texts join,
    # before and after the short ones (a phrase repeated elsewhere) drop out.
    raw = [[i, i2 + last, j, j2 + last] for i, i2, j, j2 in runs.tolist()]
    spans = _merge([s for s in _merge(raw) if s[1] - s[0] + 1 >= min_words])
    passages: list[Passage] = []
    covered_a = covered_b = 0
    for i, i_end, j, j_end in spans:
        passages.append(
            Passage(
                int(la.starts[i]),
                int(la.ends[i_end]),
                int(b_starts[j]),
                int(b_ends[j_end]),
                i_end - i + 1,
            )
        )
        covered_a += i_end - i + 1
        covered_b += j_end - j + 1
    return SharedText(passages, covered_a / len(la), min(1.0, covered_b / len(b_starts)))
