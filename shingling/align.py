"""Sentence alignment of two texts: copied, paraphrased, added, omitted.

``align(a, b)`` splits both texts into sentences (``shingling.sentences``),
scores every sentence pair from lexical evidence only, pairs sentences up and
labels each one:

* ``copied``: the same sentence up to small edits (token sequence similarity
  of the pair at least ``AlignParams.copied_ratio``), or a verbatim excerpt
  of it (``AlignParams.excerpt_share``);
* ``paraphrased``: the same content reworded (the pair decision says "same",
  the words differ more);
* ``omitted`` (only in ``a``) / ``added`` (only in ``b``): no counterpart.

Pair evidence (``FEATURES``): cosine of scikit-learn TF-IDF vectors over
word uni- and bigrams (counted by a ``CountVectorizer`` whose ``analyzer=``
runs ``shingling.tokenise.words``, the project's one tokeniser) and over
character 3-5-grams; exact overlap of word 1-4-gram and 5-letter-prefix
sets; IDF-weighted containment; unshared word counts; agreement of the
numbers; length ratio and difference; difflib's ratio of the two token
sequences. A logistic model over the features and their squares (weights
fitted on MRPC, see ``docs/quality.md``) gives the probability that two
sentences say the same thing; ``pair_decision`` exposes exactly that
decision for evaluation. IDF is fitted on the sentences of the two texts
being aligned, so weights depend on the pair of documents; the model was
fitted with IDF over a whole corpus (MRPC), so probabilities on two short
texts are less well calibrated.

``AlignParams(semantic=True)`` (``semantic_params()``, fitted on MRPC and
shipped in ``shingling/data/pair_model.json``) adds static-embedding
features (``shingling.semantic``) to the model; the default stays lexical
(``docs/quality.md``, "Semantic signal", for the side-by-side figures).

Pairs with a clause of their own (a merged sentence) or in which one
sentence is only a fragment are the weak spot of a symmetric score; they
are handled by the containment passes below, not by the model.

Scoring runs a block of rows at a time and keeps only the pairs that can
matter (``_score``): memory grows with those, not with ``n_a x n_b``; time
does, so callers bound the sentence counts (``align(max_sentences=)``).

Pairing: a one-to-one assignment maximising the summed probability over
pairs above the threshold (Hungarian algorithm per connected component of
those pairs, order-free, so reordered paragraphs align), then a many-to-one
pass: a sentence left over whose words are mostly (IDF-weighted) contained
in a neighbour's partner is the other half of a split or merged sentence; it
takes the label of that group with ``match`` pointing at the main partner.

Everything here is approximate: a paraphrase that shares few words is
missed (by default lexical evidence only; the static embeddings help a
little), and a sentence that merely
repeats the other text's vocabulary can be paired wrongly.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal, cast

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix, diags
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from shingling.normalise import fold
from shingling.sentences import SentenceSpan, split_sentences
from shingling.tokenise import Tokens, tokenise, words

Label = Literal["copied", "paraphrased", "added", "omitted"]
OpKind = Literal["equal", "replace", "delete", "insert"]

#: Names of the pair features, in the order of ``AlignParams.weights``.
#: ``_min``/``_max``: the smaller/larger of the two directions (share of a's
#: items found in b, share of b's found in a), so every feature is symmetric.
FEATURES: tuple[str, ...] = (
    "word_cos",  # TF-IDF cosine, word 1-2-grams (sublinear tf)
    "char_cos",  # TF-IDF cosine, character 3-5-grams inside word boundaries
    "uni_min",
    "uni_max",  # shared word types
    "bi_min",
    "bi_max",  # shared word bigrams
    "tri_min",
    "tri_max",  # shared word trigrams
    "quad_min",
    "quad_max",  # shared word 4-grams
    "stem_min",
    "stem_max",  # shared 5-letter word prefixes (a crude stemmer)
    "wcont_min",
    "wcont_max",  # IDF-weighted share of the word types
    "unshared_min",
    "unshared_max",  # log(1 + word types not in the other)
    "num_agree",  # Jaccard of the number tokens (1 when neither has numbers)
    "len_ratio",  # shorter / longer, in tokens
    "len_diff",  # |difference in tokens| / 10
    "seq_ratio",  # difflib ratio of the two token sequences (see _features)
)


def feature_names(semantic: bool = False) -> tuple[str, ...]:
    """The model's features: ``FEATURES``, or with ``semantic`` the static
    embedding features of ``shingling.semantic`` inserted before ``seq_ratio``
    (which stays last: ``_score`` bounds it and ``decide`` reads it there)."""
    if not semantic:
        return FEATURES
    from shingling.semantic import SEMANTIC_FEATURES

    return (*FEATURES[:-1], *SEMANTIC_FEATURES, FEATURES[-1])


@dataclass(frozen=True)
class AlignParams:
    """Decision constants of the aligner.

    ``weights``/``bias``: logistic regression over ``FEATURES`` and their
    squares (``design``), fitted on
    the MRPC training split (``copydesk eval mrpc PATH`` prints them); ``threshold``:
    the probability above which two sentences are "the same content", chosen
    by cross-validated accuracy there. ``copied_ratio``: difflib ratio of the
    two token sequences above which a pair is ``copied`` rather than
    ``paraphrased``; ``excerpt_share``: a pair is also ``copied`` when this
    share of the shorter side's words appears in order in the longer one (a
    verbatim excerpt). ``min_words``: a pair whose shorter sentence has fewer
    words must be copied to match at all. ``extra_containment``/``extra_min_words``: a leftover
    sentence joins a neighbour's pair when at least this IDF-weighted share
    of its words (and at least this many distinct words) occur in the
    partner. ``quote_share``: a pair is a shared quotation when at least
    this share of its shared words is inside direct quotation marks.
    ``max_partners``: candidate partners per sentence of ``a`` scored exactly
    and kept (the most probable first); only repeated boilerplate has more.
    ``semantic``: the model also takes the static-embedding features
    (``feature_names(True)``); ``semantic_params()`` gives the shipped fit.
    ``copy_sentences``/``light_share``/``heavy_share``: the document-level
    ``rewrite_degree`` (how many reused sentences make ``b`` a copy, and the
    paraphrase shares between verbatim, light and heavy rewording).
    """

    # Fitted on the MRPC training split; `copydesk eval mrpc PATH` prints them.
    weights: tuple[float, ...] = (
        # FEATURES, in order
        -1.2528,
        2.2467,
        -2.5944,
        0.3146,
        -0.4835,
        -0.7669,
        -0.2839,
        -0.509,
        -1.7025,
        -2.0068,
        0.5505,
        3.1714,
        1.6471,
        1.0007,
        0.534,
        -5.7437,
        -1.2561,
        0.1792,
        -0.4398,
        1.1809,
        # FEATURES squared
        -0.0609,
        -0.0486,
        -2.1162,
        -1.5621,
        2.5313,
        -0.3206,
        0.0965,
        -1.6698,
        1.2169,
        2.2394,
        1.6626,
        1.4498,
        2.9332,
        -0.5812,
        0.0037,
        1.2643,
        1.5646,
        -1.0812,
        -1.782,
        4.2727,
    )
    bias: float = 1.9795
    threshold: float = 0.5446
    copied_ratio: float = 0.8
    extra_containment: float = 0.7
    extra_min_words: int = 4
    quote_share: float = 0.5
    position_weight: float = 0.01
    exact_floor: float = 0.02
    min_words: int = 3
    excerpt_share: float = 0.9
    max_partners: int = 20
    semantic: bool = False
    # Chosen on the even-numbered half of a PAN 2013 train sample (docs/quality.md).
    copy_sentences: int = 2
    light_share: float = 0.25
    heavy_share: float = 0.75

    def __post_init__(self) -> None:
        n = len(feature_names(self.semantic))
        if len(self.weights) != 2 * n:
            raise ValueError(
                f"weights needs {2 * n} values (each feature, then each "
                f"feature squared), got {len(self.weights)}"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")


@dataclass(frozen=True)
class WordOp:
    """A run of words of one sentence and how it relates to the counterpart.

    ``op``: ``equal`` (also in the counterpart, in order), ``replace``
    (changed words), ``delete`` (only in ``a``), ``insert`` (only in ``b``).
    ``start``/``end`` are offsets into that side's whole text.
    """

    op: OpKind
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    """One aligned sentence. ``match``: index of the counterpart in the other
    text (the main partner of a split/merged group), or None. ``score``: the
    pair probability for a matched pair, the containment for an extra member
    of a group, and the best probability against any sentence when
    unmatched."""

    index: int
    text: str
    start: int
    end: int
    label: Label
    match: int | None
    score: float
    quote: bool = False
    diff: tuple[WordOp, ...] = ()


Rewritten = Literal["verbatim", "light", "heavy"]


@dataclass(frozen=True)
class Summary:
    """Sentence counts. ``copied`` and ``paraphrased`` count sentences of
    ``b`` (how much of the new text comes from ``a``); ``added`` counts
    sentences of ``b``, ``omitted`` sentences of ``a``.

    Document level (``rewrite_degree``): ``reused`` counts the sentences of
    ``b`` copied or paraphrased outside shared quotations; ``paraphrase_share``
    is the paraphrased part of those; ``rewritten`` says whether ``b`` is a
    copy of ``a`` and how much it was reworded, or None when it is not one.
    """

    copied: int
    paraphrased: int
    added: int
    omitted: int
    reused: int = 0
    paraphrase_share: float = 0.0
    rewritten: Rewritten | None = None


@dataclass(frozen=True)
class Alignment:
    a: tuple[Sentence, ...]
    b: tuple[Sentence, ...]
    summary: Summary


@dataclass(frozen=True)
class PairDecision:
    """``pair_decision``'s answer: ``probability`` that both say the same
    thing, ``same`` (probability at or above the threshold), ``copied``
    (same and nearly the same words) and the raw ``features``."""

    probability: float
    same: bool
    copied: bool
    features: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------- features


def _items(text: str) -> list[str]:
    """Everything counted about a sentence, tagged by kind: word 1-4-grams
    (``"1 "`` ... ``"4 "``), 5-letter prefixes (``"p "``) and numbers (``"d "``).
    The analyzer of the one ``CountVectorizer`` behind all the features."""
    toks = words(text)
    out = [f"1 {t}" for t in toks]
    for n in (2, 3, 4):
        out += [f"{n} " + " ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    out += [f"p {t[:5]}" for t in toks]
    out += [f"d {t}" for t in toks if any(c.isdigit() for c in t)]
    return out


def _row_sums(m: csr_matrix) -> np.ndarray:
    return np.asarray(m.sum(axis=1), dtype=float).ravel()


def _binary(m: csr_matrix) -> csr_matrix:
    return (m > 0).astype(float)


class _Fitted:
    """Every vectoriser fitted once on ``context + a + b``, and the sparse
    matrices the features are products of (one row per sentence).

    ``paired``: features of ``a[i]`` with ``b[i]``; else of sentences of ``a``
    with every sentence of ``b`` (``b``'s matrices are kept transposed for the
    products). ``features(rows)`` computes one block of rows at a time, so no
    more than ``len(rows) x len(b)`` pairs are ever held at once.
    """

    def __init__(self, a: Sequence[str], b: Sequence[str], context: Sequence[str], paired: bool):
        corpus = [*context, *a, *b]
        rows_a = slice(len(context), len(context) + len(a))
        rows_b = slice(len(context) + len(a), len(corpus))
        self.paired = paired

        def split(m: csr_matrix) -> tuple[csr_matrix, csr_matrix]:
            m = m.tocsr()
            return m[rows_a], m[rows_b]

        counts = CountVectorizer(analyzer=_items)
        all_counts = counts.fit_transform(corpus).tocsc()
        kinds = np.array([k[0] for k in counts.get_feature_names_out()])

        def kind(*tags: str) -> tuple[csr_matrix, csr_matrix]:
            return split(all_counts[:, np.flatnonzero(np.isin(kinds, tags))])

        # scikit-learn TF-IDF over our tokens: word 1-2-grams, and characters.
        tfidf = TfidfTransformer(sublinear_tf=True)
        word = split(tfidf.fit_transform(all_counts[:, np.isin(kinds, ("1", "2"))]))
        chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(3, 5),
            preprocessor=fold,
            lowercase=False,
            sublinear_tf=True,
        )
        char = split(chars.fit_transform(corpus))
        ca, cb = kind("1")
        # IDF-weighted word types (smooth IDF, as scikit-learn computes it).
        uni = all_counts[:, np.flatnonzero(kinds == "1")]
        df = np.asarray((uni > 0).sum(axis=0), dtype=float).ravel()
        idf = np.log((1 + len(corpus)) / (1 + df)) + 1
        wa, wb = _binary(ca) @ diags(idf), _binary(cb)
        self.mass = (_row_sums(wa), _row_sums(wb @ diags(idf)))
        self.lengths = (_row_sums(ca), _row_sums(cb))
        pairs = {
            "word": word,
            "char": char,
            "weighted": (wa, wb),
            "counts": (ca.astype(float), cb.astype(float)),
            **{n: tuple(_binary(m) for m in kind(n)) for n in "1234pd"},
        }
        self.sizes = {n: tuple(_row_sums(m) for m in pairs[n]) for n in "1234pd"}
        self.pairs = {name: (x, y if paired else y.T.tocsr()) for name, (x, y) in pairs.items()}

    def dot(self, name: str, rows: slice) -> np.ndarray:
        x, y = self.pairs[name]
        if self.paired:
            return np.asarray(x[rows].multiply(y[rows]).sum(axis=1), dtype=float).ravel()
        return np.asarray((x[rows] @ y).toarray(), dtype=float)

    def sides(self, u: np.ndarray, v: np.ndarray, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """Per-sentence quantities shaped to broadcast against ``dot``'s result."""
        return (u[rows], v[rows]) if self.paired else (u[rows, None], v[None, :])

    def overlap(self, name: str, rows: slice) -> tuple[np.ndarray, ...]:
        """Shared distinct items of a kind, and the distinct items of each side."""
        return (self.dot(name, rows), *self.sides(*self.sizes[name], rows))

    def features(self, rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features of the pairs of ``rows`` (``... x len(FEATURES)``), plus the two
        directional IDF-weighted containments (share of a's words in b, of b's in a).

        Paired, ``seq_ratio`` is exact. Otherwise it is the upper bound
        ``2 * sum(count_a * count_b) / (len_a + len_b)`` (difflib per pair costs
        too much for all pairs of two long articles): ``_score`` computes it
        exactly where the pair could matter.
        """
        shared, types_a, types_b = self.overlap("1", rows)
        mass_a, mass_b = self.sides(*self.mass, rows)
        shared_mass = self.dot("weighted", rows)
        cont_a, cont_b = _ratio(shared_mass, mass_a), _ratio(shared_mass, mass_b)
        unshared = np.log1p(np.stack(np.broadcast_arrays(types_a - shared, types_b - shared)))
        n_shared, n_a, n_b = self.overlap("d", rows)
        len_a, len_b = self.sides(*self.lengths, rows)
        columns = [
            self.dot("word", rows),
            self.dot("char", rows),
            *_min_max(shared, types_a, types_b),
            *(mm for n in "234p" for mm in _min_max(*self.overlap(n, rows))),
            np.minimum(cont_a, cont_b),
            np.maximum(cont_a, cont_b),
            unshared.min(axis=0),
            unshared.max(axis=0),
            _ratio(n_shared, n_a + n_b - n_shared, empty=1.0),
            _ratio(np.minimum(len_a, len_b), np.maximum(len_a, len_b)),
            np.abs(len_a - len_b) / 10.0,
        ]
        if self.paired:
            seq = np.zeros(len(shared))  # filled in by pair_features
        else:
            seq = np.minimum(1.0, _ratio(2.0 * self.dot("counts", rows), len_a + len_b))
        return np.stack([*np.broadcast_arrays(*columns), seq], axis=-1), cont_a, cont_b


def _ratio(num: np.ndarray, den: np.ndarray, empty: float = 0.0) -> np.ndarray:
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _min_max(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> list[np.ndarray]:
    share_a, share_b = _ratio(shared, size_a), _ratio(shared, size_b)
    return [np.minimum(share_a, share_b), np.maximum(share_a, share_b)]


def pair_features(
    a: Sequence[str], b: Sequence[str], context: Sequence[str] = (), semantic: bool = False
) -> np.ndarray:
    """Features (``len(a) x len(feature_names(semantic))``) of the pairs ``(a[i], b[i])``.

    IDF comes from ``context`` plus the sentences themselves: pass the
    surrounding corpus (for MRPC, every sentence of the file) to get the
    same kind of weights the aligner gets from two whole articles.
    """
    if len(a) != len(b):
        raise ValueError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    if not a:
        return np.zeros((0, len(feature_names(semantic))))
    feats = _Fitted(a, b, context, paired=True).features(slice(None))[0]
    feats[:, -1] = [_tokens_ratio(words(x), words(y)) for x, y in zip(a, b, strict=True)]
    if semantic:
        from shingling import semantic as sem

        feats = _with_semantic(feats, sem.paired_features(a, b, context))
    return feats


def _with_semantic(lexical: np.ndarray, semantic: np.ndarray) -> np.ndarray:
    """Semantic columns inserted before the last lexical one (``seq_ratio``)."""
    return np.concatenate([lexical[..., :-1], semantic, lexical[..., -1:]], axis=-1)


@functools.lru_cache(maxsize=1)
def semantic_params() -> AlignParams:
    """``AlignParams`` with the semantic features, as fitted on MRPC
    (``shingling/data/pair_model.json``, which records how)."""
    data = json.loads(resources.files("shingling").joinpath("data/pair_model.json").read_text())
    if tuple(data["features"]) != feature_names(True):
        raise ValueError("shingling/data/pair_model.json was fitted on other features")
    return AlignParams(
        weights=tuple(data["weights"]),
        bias=data["bias"],
        threshold=data["threshold"],
        semantic=True,
    )


def params_for(semantic: bool) -> AlignParams:
    """The aligner's constants for a setting (``COPYDESK_SEMANTIC``, ``--semantic``):
    lexical only (``AlignParams()``, the default) or with the semantic signal
    (``semantic_params()``)."""
    return semantic_params() if semantic else AlignParams()


def design(features: np.ndarray) -> np.ndarray:
    """The model's inputs: every feature and its square (a curve per feature)."""
    return np.concatenate([features, features**2], axis=-1)


def probability(features: np.ndarray, params: AlignParams) -> np.ndarray:
    """The logistic model: probability that each pair says the same thing."""
    z = design(features) @ np.asarray(params.weights) + params.bias
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    return out


def _tokens_ratio(x: Sequence[str], y: Sequence[str]) -> float:
    return difflib.SequenceMatcher(None, list(x), list(y), autojunk=False).ratio()


def pair_decision(
    s1: str, s2: str, params: AlignParams | None = None, context: Sequence[str] = ()
) -> PairDecision:
    """The aligner's decision on one sentence pair (used to evaluate on MRPC)."""
    params = params or AlignParams()
    feats = pair_features([s1], [s2], context, semantic=params.semantic)
    p = probability(feats, params)
    w1, w2 = words(s1), words(s2)
    same = bool(decide(p, feats, np.array([min(len(w1), len(w2))]), params)[0])
    matcher = difflib.SequenceMatcher(None, w1, w2, autojunk=False)
    copied = same and _copied(matcher, len(w1), len(w2), params)
    named = dict(zip(feature_names(params.semantic), map(float, feats[0]), strict=True))
    return PairDecision(float(p[0]), same, copied, named)


def decide(
    prob: np.ndarray, features: np.ndarray, shorter: np.ndarray, params: AlignParams
) -> np.ndarray:
    """Which pairs say the same thing: probability at or above the threshold,
    and, when the shorter sentence has fewer than ``params.min_words`` words
    (a fragment, a one-word line), nearly the same words too: the model was
    fitted on full sentences and says little about fragments."""
    fragment = shorter < params.min_words
    return (prob >= params.threshold) & (~fragment | (features[..., -1] >= params.copied_ratio))


# ---------------------------------------------------------------- alignment


@dataclass(frozen=True)
class _Side:
    text: str
    spans: tuple[SentenceSpan, ...]
    tokens: Tokens
    bounds: tuple[tuple[int, int], ...]  # token index range of each sentence

    @classmethod
    def of(cls, text: str, spans: tuple[SentenceSpan, ...]) -> _Side:
        toks = tokenise(text)
        bounds = tuple(
            (
                int(np.searchsorted(toks.starts, s.start, side="left")),
                int(np.searchsorted(toks.ends, s.end, side="right")),
            )
            for s in spans
        )
        return cls(text, spans, toks, bounds)

    def values(self, i: int) -> tuple[str, ...]:
        lo, hi = self.bounds[i]
        return self.tokens.values[lo:hi]

    def group_tokens(self, idx: Sequence[int]) -> list[tuple[int, int]]:
        """(sentence, token index) of every token of the sentences ``idx``, in order."""
        return [(i, t) for i in sorted(idx) for t in range(*self.bounds[i])]


#: Pairs whose features are held at once while scoring (one block of rows of
#: ``a`` against all of ``b``): about 100 MB of floats at its peak.
PAIRS_PER_BLOCK = 1 << 17


@dataclass(frozen=True)
class _Scores:
    """What the alignment needs of the ``n_a x n_b`` pair scores, kept sparse.

    The pairs kept (``i``, ``j``) are those that say the same thing (``ok``)
    and those where one sentence's words are mostly contained in the other's,
    with their probability and both containments; ``best_a``/``best_b``: each
    sentence's best probability against any sentence of the other text.
    """

    i: np.ndarray
    j: np.ndarray
    prob: np.ndarray
    ok: np.ndarray
    cont_a: np.ndarray
    cont_b: np.ndarray
    best_a: np.ndarray
    best_b: np.ndarray

    def by_pair(self, values: np.ndarray, b_first: bool = False) -> dict[tuple[int, int], float]:
        """``values`` of the kept pairs by ``(i, j)`` (``(j, i)`` with ``b_first``)."""
        first, second = (self.j, self.i) if b_first else (self.i, self.j)
        pairs = zip(first.tolist(), second.tolist(), strict=True)
        return dict(zip(pairs, values.tolist(), strict=True))


def _top_per_row(mask: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """``mask`` with at most ``k`` entries left per row: those with the largest ``key``."""
    heavy = np.flatnonzero(mask.sum(axis=1) > k)
    if not len(heavy):
        return mask
    out = mask.copy()
    for r in heavy.tolist():
        cols = np.flatnonzero(mask[r])
        out[r, cols[np.argsort(-key[r, cols], kind="stable")[k:]]] = False
    return out


def _score(sa: _Side, sb: _Side, params: AlignParams) -> _Scores:
    """Score every sentence pair, one block of rows of ``a`` at a time, keeping
    only the pairs that can matter: memory grows with ``PAIRS_PER_BLOCK`` and
    the kept pairs, not with ``n_a x n_b``; time still grows with ``n_a x n_b``
    (hence ``COPYDESK_MAX_ALIGN_SENTENCES``).

    ``seq_ratio`` is exact where a pair's probability, with its upper bound in
    place of the ratio, could reach ``params.exact_floor``; elsewhere that
    probability is an upper bound below the floor and decides nothing. At most
    ``params.max_partners`` pairs per sentence of ``a`` (the most probable,
    nearest in position on ties) are scored exactly and kept: only a sentence
    repeated more often than that (boilerplate) can lose a partner to the cap.
    """
    a_sents = [s.text for s in sa.spans]
    b_sents = [s.text for s in sb.spans]
    na, nb = len(a_sents), len(b_sents)
    fit = _Fitted(a_sents, b_sents, (), paired=False)
    if params.semantic:
        from shingling import semantic as sem

        emb_a, emb_b = sem.embed(a_sents), sem.embed(b_sents)
        token_idf = sem.idf(emb_a, emb_b)
    toks_a = [words(s) for s in a_sents]
    toks_b = [words(s) for s in b_sents]
    lengths_a = np.array([hi - lo for lo, hi in sa.bounds])
    lengths_b = np.array([hi - lo for lo, hi in sb.bounds])
    # The bound bounds the probability only where it grows with seq_ratio on
    # [0, 1]: linear weight w1 and square weight w2 with w1 >= 0, w1 + 2 w2 >= 0.
    w1, w2 = params.weights[len(feature_names(params.semantic)) - 1], params.weights[-1]
    bounded = w1 >= 0 and w1 + 2 * w2 >= 0
    pos_b = (np.arange(nb) + 0.5) / nb
    best_a, best_b = np.zeros(na), np.zeros(nb)
    kept: list[tuple[np.ndarray, ...]] = []
    step = max(1, PAIRS_PER_BLOCK // nb)
    for lo in range(0, na, step):
        rows = slice(lo, min(na, lo + step))
        feats, cont_a, cont_b = fit.features(rows)
        if params.semantic:
            feats = _with_semantic(feats, sem.features(emb_a, emb_b, token_idf, rows))
        prob = probability(feats, params)
        near = params.position_weight * (
            1.0 - np.abs((np.arange(rows.start, rows.stop)[:, None] + 0.5) / na - pos_b)
        )
        exact = prob >= params.exact_floor if bounded else np.ones(prob.shape, dtype=bool)
        exact = _top_per_row(exact, prob + near, params.max_partners)
        ii, jj = np.nonzero(exact)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            feats[i, j, -1] = _tokens_ratio(toks_a[lo + i], toks_b[j])
        prob[ii, jj] = probability(feats[ii, jj], params)
        shorter = np.minimum(lengths_a[rows, None], lengths_b[None, :])
        ok = decide(prob, feats, shorter, params) & exact
        contained = np.maximum(cont_a, cont_b)
        keep = ok | _top_per_row(
            contained >= params.extra_containment, contained + near, params.max_partners
        )
        best_a[rows] = prob.max(axis=1)
        np.maximum(best_b, prob.max(axis=0), out=best_b)
        ii, jj = np.nonzero(keep)
        kept.append((ii + lo, jj, prob[ii, jj], ok[ii, jj], cont_a[ii, jj], cont_b[ii, jj]))
    i, j, prob, ok, cont_a, cont_b = (np.concatenate(parts) for parts in zip(*kept, strict=True))
    return _Scores(i, j, prob, ok, cont_a, cont_b, best_a, best_b)


#: Largest component (rows x columns) the assignment solves as a dense matrix;
#: a larger one goes to the sparse solver.
DENSE_ASSIGNMENT = 1 << 20


def _assign(scores: _Scores, na: int, nb: int, params: AlignParams) -> dict[int, int]:
    """One-to-one pairs (a index -> b index) among the ``ok`` ones,
    maximising the summed probability.

    The graph of ``ok`` pairs falls apart into connected components, each
    solved on its own (the best matching of the whole is the union of the
    best of each part): dense Hungarian for a small one, the sparse
    Jonker-Volgenant solver over its pairs for a large one.
    """
    sel = np.flatnonzero(scores.ok)
    if not len(sel):
        return {}
    i, j = scores.i[sel], scores.j[sel]
    # A small bonus for similar relative position only breaks ties between
    # repeated sentences; it cannot outweigh a real difference in evidence.
    pos = 1.0 - np.abs((i + 0.5) / na - (j + 0.5) / nb)
    gain = scores.prob[sel] + params.position_weight * pos
    graph = coo_matrix((np.ones(len(i)), (i, na + j)), shape=(na + nb, na + nb))
    _, component = connected_components(graph, directed=False)
    order = np.argsort(component[i], kind="stable")
    cuts = np.flatnonzero(np.diff(component[i][order])) + 1
    out: dict[int, int] = {}
    for edges in np.split(order, cuts):
        rows, ri = np.unique(i[edges], return_inverse=True)
        cols, ci = np.unique(j[edges], return_inverse=True)
        if len(rows) * len(cols) <= DENSE_ASSIGNMENT:
            dense = np.zeros((len(rows), len(cols)))
            dense[ri, ci] = gain[edges]
            r, c = linear_sum_assignment(dense, maximize=True)
            matched = dense[r, c] > 0
            r, c = r[matched], c[matched]
        else:
            # Each row may also go to a column of its own at cost 2 (unmatched),
            # so a full matching always exists; a pair costs 2 - gain.
            n = len(rows)
            cost = csr_matrix(
                (
                    np.concatenate([2.0 - gain[edges], np.full(n, 2.0)]),
                    (
                        np.concatenate([ri, np.arange(n)]),
                        np.concatenate([ci, len(cols) + np.arange(n)]),
                    ),
                ),
                shape=(n, len(cols) + n),
            )
            r, c = min_weight_full_bipartite_matching(cost)
            matched = c < len(cols)
            r, c = r[matched], c[matched]
        out.update(zip(rows[r].tolist(), cols[c].tolist(), strict=True))
    return out


def _extras(
    main: dict[int, int],
    cont: Mapping[tuple[int, int], float],
    own: _Side,
    other: _Side,
    params: AlignParams,
) -> dict[int, int]:
    """Leftover sentences of ``own`` that are the other half of a neighbour's pair.

    ``main`` maps ``own`` indexes to partners in ``other``; ``cont[x, y]``
    is the IDF-weighted share of ``x``'s words found in ``y`` (kept where it
    reaches ``params.extra_containment``, below it reads 0). A leftover
    ``x`` next to a paired sentence joins that pair's partner ``y`` when
    most of its words are in the part of ``y`` that ``y``'s main partner
    does not already account for: a sentence split in two, or two merged.
    """
    extra: dict[int, int] = {}
    for x in range(len(own.spans)):
        words_x = own.values(x)
        if x in main or len(set(words_x)) < params.extra_min_words:
            continue
        partners = {main[n] for n in (x - 1, x + 1) if n in main}
        best = max(partners, key=lambda y: cont.get((x, y), 0.0), default=None)
        if best is None or cont.get((x, best), 0.0) < params.extra_containment:
            continue
        z = next(k for k, y in main.items() if y == best)
        if _share_in_rest(words_x, other.values(best), own.values(z)) >= params.extra_containment:
            extra[x] = best
    return extra


def _share_in_rest(x: Sequence[str], y: Sequence[str], z: Sequence[str]) -> float:
    """Share of ``x``'s words found in what of ``y`` is not matched by ``z``."""
    matcher = difflib.SequenceMatcher(None, list(z), list(y), autojunk=False)
    rest: Counter[str] = Counter(y)
    for block in matcher.get_matching_blocks():
        rest.subtract(y[block.b : block.b + block.size])
    found = sum((Counter(x) & +rest).values())
    return found / len(x) if x else 0.0


def _orphan_pairs(
    main: dict[int, int],
    scores: _Scores,
    types_a: np.ndarray,
    types_b: np.ndarray,
    params: AlignParams,
) -> dict[int, int]:
    """Unpaired sentences, one mostly contained in the other (a long sentence
    cut in two halves scores low on symmetric measures): greedy, best first."""
    m = params.extra_min_words
    i, j = scores.i, scores.j
    c = np.maximum(
        np.where(types_a[i] >= m, scores.cont_a, 0.0), np.where(types_b[j] >= m, scores.cont_b, 0.0)
    )
    free = ~np.isin(i, list(main)) & ~np.isin(j, list(main.values()))
    sel = np.flatnonzero(free & (c >= params.extra_containment))
    rows, cols, c = i[sel], j[sel], c[sel]
    order = np.lexsort((-cols, -rows, -c))  # best first, ties by index
    out: dict[int, int] = {}
    taken_b: set[int] = set()
    for x, y in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if x not in out and y not in taken_b:
            out[x] = y
            taken_b.add(y)
    return out


def _ops(
    opcodes: Sequence[tuple[str, int, int, int, int]], which: int
) -> list[tuple[OpKind, int, int]]:
    """Token ranges of one side (``which`` 0 = a, 1 = b) from difflib opcodes."""
    out: list[tuple[OpKind, int, int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        lo, hi = (i1, i2) if which == 0 else (j1, j2)
        if hi > lo:
            out.append((cast(OpKind, tag), lo, hi))
    return out


class TooManySentences(ValueError):
    """A text has more sentences than the aligner was allowed to take (``max_sentences``)."""

    def __init__(self, side: str, count: int, limit: int):
        self.side, self.count, self.limit = side, count, limit
        super().__init__(
            f"text {side} has {count:,} sentences; the limit is {limit:,}: "
            "split the article, or raise the limit"
        )


def align(
    a_text: str,
    b_text: str,
    params: AlignParams | None = None,
    *,
    max_sentences: int | None = None,
) -> Alignment:
    """Align the sentences of ``a_text`` with those of ``b_text``.

    ``max_sentences``: refuse (``TooManySentences``) a text with more
    sentences, once both are split and before any pair is scored.
    """
    params = params or AlignParams()
    spans = {}
    for side, text in (("a", a_text), ("b", b_text)):
        spans[side] = tuple(split_sentences(text))
        if max_sentences is not None and len(spans[side]) > max_sentences:
            raise TooManySentences(side, len(spans[side]), max_sentences)
    sa, sb = _Side.of(a_text, spans["a"]), _Side.of(b_text, spans["b"])
    na, nb = len(sa.spans), len(sb.spans)
    if na and nb:
        scores = _score(sa, sb, params)
    else:
        empty = np.zeros(0)
        scores = _Scores(
            empty.astype(int),
            empty.astype(int),
            empty,
            empty > 0,
            empty,
            empty,
            np.zeros(na),
            np.zeros(nb),
        )
    types_a = np.array([len(set(sa.values(i))) for i in range(na)])
    types_b = np.array([len(set(sb.values(j))) for j in range(nb)])

    main = _assign(scores, na, nb, params)
    prob = scores.by_pair(scores.prob)
    cont_a = scores.by_pair(scores.cont_a)
    cont_b = scores.by_pair(scores.cont_b, b_first=True)
    # Evidence of each main pair: its probability, or for a pair found by
    # containment alone (one sentence inside the other), that containment.
    evidence = {(i, j): prob[i, j] for i, j in main.items()}
    orphans = _orphan_pairs(main, scores, types_a, types_b, params)
    evidence.update({(i, j): max(cont_a[i, j], cont_b[j, i]) for i, j in orphans.items()})
    main.update(orphans)
    inverse = {j: i for i, j in main.items()}
    extra_a = _extras(main, cont_a, sa, sb, params)  # a extra -> b partner
    extra_b = _extras(inverse, cont_b, sb, sa, params)  # b extra -> a partner

    labels_a: dict[int, tuple[Label, int, float, bool]] = {}
    labels_b: dict[int, tuple[Label, int, float, bool]] = {}
    diff_a: dict[int, list[WordOp]] = {}
    diff_b: dict[int, list[WordOp]] = {}
    for i, j in main.items():
        group_a = [i, *(x for x, y in extra_a.items() if y == j)]
        group_b = [j, *(x for x, y in extra_b.items() if y == i)]
        ta, tb = sa.group_tokens(group_a), sb.group_tokens(group_b)
        va = [sa.tokens.values[t] for _, t in ta]
        vb = [sb.tokens.values[t] for _, t in tb]
        matcher = difflib.SequenceMatcher(None, va, vb, autojunk=False)
        codes = matcher.get_opcodes()
        label: Label = "copied" if _copied(matcher, len(va), len(vb), params) else "paraphrased"
        quote = _is_quote(codes, sa.tokens, ta, sb.tokens, tb, params.quote_share)
        for side, toks, diffs, which in ((sa, ta, diff_a, 0), (sb, tb, diff_b, 1)):
            for tag, lo, hi in _ops(codes, which):
                _add_ops(side, toks[lo:hi], tag, diffs)
        for x in group_a:
            score = evidence[i, j] if x == i else cont_a[x, j]
            labels_a[x] = (label, j, score, quote)
        for y in group_b:
            score = evidence[i, j] if y == j else cont_b[y, i]
            labels_b[y] = (label, i, score, quote)

    best_a, best_b = scores.best_a, scores.best_b
    side_a = tuple(
        _sentence(k, sa.spans[k], labels_a.get(k), "omitted", best_a[k], diff_a.get(k, []))
        for k in range(na)
    )
    side_b = tuple(
        _sentence(k, sb.spans[k], labels_b.get(k), "added", best_b[k], diff_b.get(k, []))
        for k in range(nb)
    )
    reused, share, degree = rewrite_degree(side_b, params)
    summary = Summary(
        copied=sum(s.label == "copied" for s in side_b),
        paraphrased=sum(s.label == "paraphrased" for s in side_b),
        added=sum(s.label == "added" for s in side_b),
        omitted=sum(s.label == "omitted" for s in side_a),
        reused=reused,
        paraphrase_share=_round(share),
        rewritten=degree,
    )
    return Alignment(side_a, side_b, summary)


def rewrite_degree(
    b: Sequence[Sentence], params: AlignParams | None = None
) -> tuple[int, float, Rewritten | None]:
    """Whether ``b`` is a copy of ``a`` and how much it was reworded, from ``b``'s labels.

    Counted: sentences of ``b`` copied or paraphrased, of at least
    ``params.min_words`` words and not a shared quotation (two independent
    reports quoting one speaker are not a copy). ``b`` is a copy when at least
    ``params.copy_sentences`` such sentences are found; then ``paraphrase_share``
    (the paraphrased part of them) below ``params.light_share`` is ``verbatim``,
    below ``params.heavy_share`` ``light``, else ``heavy``. Returns (sentences
    counted, paraphrase share, degree or None). The constants were chosen on
    PAN 2013 train pairs (``docs/quality.md``); a copy of fewer sentences, or
    one reworded beyond what the pair model recognises, is not found.
    """
    params = params or AlignParams()
    counted = [
        s
        for s in b
        if s.label in ("copied", "paraphrased")
        and not s.quote
        and len(words(s.text)) >= params.min_words
    ]
    if not counted:
        return 0, 0.0, None
    share = sum(s.label == "paraphrased" for s in counted) / len(counted)
    if len(counted) < params.copy_sentences:
        return len(counted), share, None
    if share < params.light_share:
        return len(counted), share, "verbatim"
    return len(counted), share, "light" if share < params.heavy_share else "heavy"


def _copied(matcher: difflib.SequenceMatcher[str], na: int, nb: int, params: AlignParams) -> bool:
    """Nearly the same words in the same order, or a verbatim excerpt: all
    but a few words of the shorter side appear, in order, in the longer
    (an outlet that cuts a wire sentence short still copies it)."""
    if matcher.ratio() >= params.copied_ratio:
        return True
    equal = sum(block.size for block in matcher.get_matching_blocks())
    shorter = min(na, nb)
    return shorter >= params.min_words and equal >= params.excerpt_share * shorter


def _is_quote(  # type: ignore[no-untyped-def]
    codes,
    tok_a: Tokens,
    ta: list[tuple[int, int]],
    tok_b: Tokens,
    tb: list[tuple[int, int]],
    share: float,
) -> bool:
    """Whether the shared words of a pair are mostly inside direct quotes
    (on either side: a quotation one outlet prints and the other reports
    without marks is still the speaker's words)."""
    shared = quoted = 0
    for tag, i1, i2, j1, _ in codes:
        if tag != "equal":
            continue
        shared += i2 - i1
        quoted += sum(
            bool(tok_a.quoted[ta[i1 + k][1]] or tok_b.quoted[tb[j1 + k][1]]) for k in range(i2 - i1)
        )
    return shared > 0 and quoted / shared >= share


def _add_ops(
    side: _Side, toks: list[tuple[int, int]], tag: OpKind, diffs: dict[int, list[WordOp]]
) -> None:
    """Append one op per sentence for a run of tokens (a run can cross sentences)."""
    run: list[tuple[int, int]] = []
    for item in [*toks, None]:
        if run and (item is None or item[0] != run[0][0]):
            start = int(side.tokens.starts[run[0][1]])
            end = int(side.tokens.ends[run[-1][1]])
            diffs.setdefault(run[0][0], []).append(WordOp(tag, start, end, side.text[start:end]))
            run = []
        if item is not None:
            run.append(item)


def _sentence(
    k: int,
    span: SentenceSpan,
    labelled: tuple[Label, int, float, bool] | None,
    unmatched: Label,
    best: float,
    diff: list[WordOp],
) -> Sentence:
    if labelled is None:
        return Sentence(k, span.text, span.start, span.end, unmatched, None, _round(best))
    label, match, score, quote = labelled
    ops = tuple(sorted(diff, key=lambda op: op.start))
    return Sentence(k, span.text, span.start, span.end, label, match, _round(score), quote, ops)


def _round(x: float) -> float:
    return 0.0 if math.isnan(x) else round(float(x), 4)
