"""Semantic similarity of sentences from static token embeddings, on a CPU.

The vectors are WordLlama's (``wordllama`` on PyPI, config ``l2_supercat``,
256 dimensions): one vector per token of a Llama-2 tokenizer, trained to
pool into sentence embeddings. The weights (16 MB) and the tokenizer ship
inside the wheel, so nothing is fetched at run time: ``_model`` loads them
from the installed package with ``disable_download=True`` (a missing file is
an error, never a download from the Hugging Face hub).

Two kinds of evidence per sentence pair (``SEMANTIC_FEATURES``):

* ``emb_cos``: cosine of the mean-pooled sentence vectors (the package's
  own pooling);
* ``soft_min``/``soft_max``: greedy soft alignment of tokens (BERTScore's
  idea with static vectors): for each token of one sentence its best cosine
  with any token of the other, averaged over the sentence; the smaller and
  larger of the two directions.

What this is not: a contextual model. Static vectors put words of one topic
close together ("missile" / "drone"), so two reports of one event score
higher than two unrelated sentences; the aligner uses these features only
inside the pair model fitted on MRPC, whose negatives are exactly such
same-topic pairs, and never on their own.

Sentences are embedded once per text (``embed``); the pair scores of two
texts are products of those matrices, one block of rows at a time.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Names of the semantic pair features, inserted before ``seq_ratio`` in
#: ``shingling.align.feature_names(semantic=True)``. ``_min``/``_max``: the
#: smaller/larger of the two directions, as in ``shingling.align.FEATURES``.
SEMANTIC_FEATURES: tuple[str, ...] = (
    "emb_cos",  # cosine of the IDF-weighted mean token vectors
    "soft_min",
    "soft_max",  # IDF-weighted mean of each token's best cosine in the other sentence
    "syn_min",
    "syn_max",  # the same over tokens absent from the other sentence (synonyms?)
    "new_min",
    "new_max",  # log(1 + IDF mass of absent tokens times (1 - best cosine)): new content
)

#: Largest token-by-token similarity block computed at once (float32): 64 MB.
TOKEN_PAIRS_PER_BLOCK = 1 << 24


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    """WordLlama's inference object, loaded once per process from the wheel."""
    root = logging.getLogger()
    # wordllama.inference calls logging.basicConfig(level=INFO) at import; a
    # handler already in place makes that a no-op, so our root logger is untouched.
    guard = None if root.handlers else logging.NullHandler()
    if guard is not None:
        root.addHandler(guard)
    try:
        import wordllama
        from wordllama import WordLlama

        # wordllama 0.4 looks for the bundled tokenizer in "tokenizer/" while the
        # wheel has it in "tokenizers/", and would then download it; its cache
        # layout ("weights/", "tokenizers/") is the wheel's, so the package folder
        # as cache_dir finds both files, and disable_download forbids the hub.
        here = Path(wordllama.__file__).parent
        return WordLlama.load("l2_supercat", cache_dir=here, dim=256, disable_download=True)
    finally:
        if guard is not None:
            root.removeHandler(guard)


@dataclass(frozen=True)
class Embedded:
    """Token vectors of a list of sentences.

    ``ids``/``tokens``: token ids and unit token vectors, sentence after
    sentence (a sentence without tokens gets one id -1 with a zero vector, so
    every sentence has at least one row); ``starts``: index of each
    sentence's first token.
    """

    ids: np.ndarray
    tokens: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def counts(self) -> np.ndarray:
        return np.diff(np.append(self.starts, len(self.ids)))

    def take(self, rows: slice) -> Embedded:
        lo, hi, _ = rows.indices(len(self))
        if hi <= lo:
            return Embedded(self.ids[:0], self.tokens[:0], self.starts[:0])
        t_lo = int(self.starts[lo])
        t_hi = int(self.starts[hi]) if hi < len(self) else len(self.ids)
        return Embedded(self.ids[t_lo:t_hi], self.tokens[t_lo:t_hi], self.starts[lo:hi] - t_lo)


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    out: np.ndarray = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return out


def embed(sentences: Sequence[str]) -> Embedded:
    """Token ids and vectors of ``sentences`` (one tokenizer pass for all)."""
    model = _model()
    vocab = len(model.embedding)
    encoded = model.tokenizer.encode_batch(list(sentences), add_special_tokens=False)
    per = [
        [i for i, m in zip(enc.ids, enc.attention_mask, strict=True) if m and 0 <= i < vocab]
        or [-1]
        for enc in encoded
    ]
    counts = np.array([len(p) for p in per], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    ids = np.array([i for p in per for i in p], dtype=np.int64)
    return Embedded(ids, _unit_table()[ids] * (ids >= 0)[:, None], starts[: len(per)])


@functools.lru_cache(maxsize=1)
def _unit_table() -> np.ndarray:
    table: np.ndarray = _unit(np.asarray(_model().embedding, dtype=np.float32))
    return table


def idf(*texts: Embedded) -> np.ndarray:
    """Smooth IDF of every token id over the sentences of ``texts`` (as
    scikit-learn computes it); index -1 (no token) gets 0."""
    n = sum(len(t) for t in texts)
    df = np.zeros(len(_model().embedding) + 1)
    for t in texts:
        sentence = np.repeat(np.arange(len(t)), t.counts())
        pairs = np.unique(np.stack([sentence, t.ids]), axis=1)
        np.add.at(df, pairs[1], 1.0)
    out = np.log((1 + n) / (1 + df)) + 1
    out[-1] = 0.0
    return out


def _sentence_vectors(e: Embedded, weights: np.ndarray) -> np.ndarray:
    raw = np.asarray(_model().embedding, dtype=np.float32)[e.ids] * weights[:, None]
    return _unit(np.add.reduceat(raw, e.starts, axis=0)) if len(e) else raw[:0]


def features(
    a: Embedded, b: Embedded, weights: np.ndarray, rows: slice | None = None
) -> np.ndarray:
    """``SEMANTIC_FEATURES`` of every pair of ``a[rows]`` x ``b``
    (``n_rows x len(b) x 7``), ``weights`` the IDF of ``idf``."""
    x = a.take(rows or slice(None))
    out = np.zeros((len(x), len(b), len(SEMANTIC_FEATURES)))
    if not len(x) or not len(b):
        return out
    wb = weights[b.ids]
    vb = _sentence_vectors(b, wb)
    step = max(1, int(TOKEN_PAIRS_PER_BLOCK // max(1, len(b.ids)) // max(1, x.counts().mean())))
    for lo in range(0, len(x), step):
        part = slice(lo, min(len(x), lo + step))
        out[part] = _block(x.take(part), b, weights, wb, vb)
    return out


def _block(
    x: Embedded, b: Embedded, weights: np.ndarray, wb: np.ndarray, vb: np.ndarray
) -> np.ndarray:
    wx = weights[x.ids]
    cos = _sentence_vectors(x, wx) @ vb.T
    sim = np.clip(x.tokens @ b.tokens.T, 0.0, 1.0)  # tokens of x by tokens of b
    same = (x.ids[:, None] == b.ids[None, :]) & (x.ids[:, None] >= 0)
    # Each token's best cosine and whether it occurs at all, per sentence of the other side.
    best_x = np.maximum.reduceat(sim, b.starts, axis=1)  # tokens_x x n_b
    in_x = np.logical_or.reduceat(same, b.starts, axis=1)
    best_b = np.maximum.reduceat(sim, x.starts, axis=0)  # n_x x tokens_b
    in_b = np.logical_or.reduceat(same, x.starts, axis=0)

    def per_x(v: np.ndarray) -> np.ndarray:  # sum over x's sentences' tokens -> n_x x n_b
        return np.add.reduceat(v, x.starts, axis=0)

    def per_b(v: np.ndarray) -> np.ndarray:  # sum over b's sentences' tokens -> n_x x n_b
        return np.add.reduceat(v, b.starts, axis=1)

    mass_x = per_x(np.broadcast_to(wx[:, None], best_x.shape))
    mass_b = per_b(np.broadcast_to(wb[None, :], best_b.shape))
    soft = _ratio(per_x(wx[:, None] * best_x), mass_x), _ratio(per_b(wb * best_b), mass_b)
    out_x, out_b = wx[:, None] * ~in_x, wb * ~in_b
    syn = _ratio(per_x(out_x * best_x), per_x(out_x)), _ratio(per_b(out_b * best_b), per_b(out_b))
    new = np.log1p(per_x(out_x * (1 - best_x))), np.log1p(per_b(out_b * (1 - best_b)))
    cols = [cos]
    for u, v in (soft, syn, new):
        cols += [np.minimum(u, v), np.maximum(u, v)]
    return np.stack(cols, axis=-1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def paired_features(a: Sequence[str], b: Sequence[str], context: Sequence[str] = ()) -> np.ndarray:
    """``SEMANTIC_FEATURES`` of the pairs ``(a[i], b[i])`` (``len(a) x 7``), IDF
    over ``context`` plus the sentences themselves."""
    if len(a) != len(b):
        raise ValueError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    ea, eb = embed(a), embed(b)
    weights = idf(ea, eb, *([embed(context)] if context else []))
    out = np.zeros((len(a), len(SEMANTIC_FEATURES)))
    for i in range(len(a)):
        one = slice(i, i + 1)
        out[i] = features(ea.take(one), eb.take(one), weights)[0, 0]
    return out


__all__ = ["SEMANTIC_FEATURES", "Embedded", "embed", "features", "idf", "paired_features"]
