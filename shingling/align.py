"""Sentence alignment of two texts: copied, paraphrased, added, omitted.

``align(a, b)`` splits both texts into sentences (``shingling.sentences``),
scores every sentence pair from lexical evidence only, pairs sentences up and
labels each one:

* ``copied``: the same sentence up to small edits (token sequence similarity
  of the pair at least ``AlignParams.copied_ratio``);
* ``paraphrased``: the same content reworded (the pair decision says "same",
  the words differ more);
* ``omitted`` (only in ``a``) / ``added`` (only in ``b``): no counterpart.

Pair evidence (``FEATURES``): cosine of TF-IDF vectors over word uni- and
bigrams (scikit-learn, with ``shingling.tokenise.words`` as the analyzer) and
over character 3-5-grams, exact overlap of word 1/2/3-gram sets, IDF-weighted
containment, agreement of the numbers and the length ratio. A logistic model
over them (weights fitted on MRPC, see ``docs/quality.md``) gives the
probability that two sentences say the same thing; ``pair_decision`` exposes
exactly that decision for evaluation. IDF is fitted on the sentences of the
two texts being aligned, so weights depend on the pair of documents.

Pairing: a one-to-one assignment maximising the summed probability over
pairs above the threshold (Hungarian algorithm, order-free, so reordered
paragraphs align), then a many-to-one pass: a sentence left over whose words
are mostly (IDF-weighted) contained in a neighbour's partner is the other
half of a split or merged sentence; it takes the label of that group with
``match`` pointing at the main partner.

Everything here is approximate: a paraphrase that shares few words is
missed (lexical evidence only, no semantics), and a sentence that merely
repeats the other text's vocabulary can be paired wrongly.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix, diags
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from shingling.normalise import fold
from shingling.sentences import SentenceSpan, split_sentences
from shingling.tokenise import Tokens, tokenise, words

Label = Literal["copied", "paraphrased", "added", "omitted"]
OpKind = Literal["equal", "replace", "delete", "insert"]

#: Names of the pair features, in the order of ``AlignParams.weights``.
FEATURES: tuple[str, ...] = (
    "word_cos",  # TF-IDF cosine, word 1-2-grams
    "char_cos",  # TF-IDF cosine, character 3-5-grams inside word boundaries
    "uni_min",  # shared word types / word types of the shorter sentence
    "uni_max",  # shared word types / word types of the longer sentence
    "bi_max",  # shared word bigrams / bigrams of the longer sentence
    "tri_max",  # shared word trigrams / trigrams of the longer sentence
    "wcont_min",  # IDF-weighted containment of the less-contained side
    "num_agree",  # Jaccard of the number tokens (1 when neither has numbers)
    "len_ratio",  # shorter / longer, in tokens
)


@dataclass(frozen=True)
class AlignParams:
    """Decision constants of the aligner.

    ``weights``/``bias``: logistic regression over ``FEATURES``, fitted on
    the MRPC training split (``copydesk eval mrpc --fit``); ``threshold``:
    the probability above which two sentences are "the same content", chosen
    by cross-validated accuracy there. ``copied_ratio``: difflib ratio of the
    two token sequences above which a pair is ``copied`` rather than
    ``paraphrased``. ``extra_containment``/``extra_min_words``: a leftover
    sentence joins a neighbour's pair when at least this IDF-weighted share
    of its words (and at least this many distinct words) occur in the
    partner. ``quote_share``: a pair is a shared quotation when at least
    this share of its shared words is inside direct quotation marks.
    """

    weights: tuple[float, ...] = (
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
    )
    bias: float = -5.0
    threshold: float = 0.5
    copied_ratio: float = 0.8
    extra_containment: float = 0.7
    extra_min_words: int = 4
    quote_share: float = 0.5
    position_weight: float = 0.01

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"weights needs {len(FEATURES)} values, got {len(self.weights)}")
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


@dataclass(frozen=True)
class Summary:
    """Sentence counts. ``copied`` and ``paraphrased`` count sentences of
    ``b`` (how much of the new text comes from ``a``); ``added`` counts
    sentences of ``b``, ``omitted`` sentences of ``a``."""

    copied: int
    paraphrased: int
    added: int
    omitted: int


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


def _ngrams(n: int):  # type: ignore[no-untyped-def]
    def analyzer(text: str) -> list[str]:
        toks = words(text)
        return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]

    return analyzer


def _uni_bi(text: str) -> list[str]:
    toks = words(text)
    return toks + [f"{x} {y}" for x, y in zip(toks, toks[1:], strict=False)]


def _numbers(text: str) -> list[str]:
    return [t for t in words(text) if any(c.isdigit() for c in t)]


def _row_normalise(m: csr_matrix) -> csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return diags(1.0 / np.maximum(norms, 1e-12)) @ m


class _Pairing:
    """Dot products of rows of two sparse matrices: all pairs (``paired=False``,
    an ``n_a x n_b`` array) or row by row (``paired=True``, ``n`` values)."""

    def __init__(self, paired: bool) -> None:
        self.paired = paired

    def dot(self, x: csr_matrix, y: csr_matrix) -> np.ndarray:
        if self.paired:
            return np.asarray(x.multiply(y).sum(axis=1)).ravel()
        return np.asarray((x @ y.T).todense())

    def sides(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row quantities shaped to broadcast against ``dot``'s result."""
        return (u, v) if self.paired else (u[:, None], v[None, :])


def _ratio(num: np.ndarray, den: np.ndarray, empty: float = 0.0) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _features(
    a: Sequence[str], b: Sequence[str], context: Sequence[str], paired: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature array (``... x len(FEATURES)``) plus the two directional
    IDF-weighted containments (a in b, b in a)."""
    pairing = _Pairing(paired)
    corpus = [*context, *a, *b]
    na = len(a)

    def fit(vec: CountVectorizer) -> tuple[csr_matrix, csr_matrix]:
        vec.fit(corpus)
        return vec.transform(a).tocsr(), vec.transform(b).tocsr()

    wa, wb = fit(TfidfVectorizer(analyzer=_uni_bi, sublinear_tf=True))
    ca, cb = fit(
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), preprocessor=fold, lowercase=False,
            sublinear_tf=True,
        )
    )
    word_cos = pairing.dot(wa, wb)
    char_cos = pairing.dot(ca, cb)

    uni = TfidfVectorizer(analyzer=words, binary=True, use_idf=True, norm=None)
    ua, ub = fit(uni)  # binary term presence times idf
    idf = uni.idf_
    ua_bin, ub_bin = (ua > 0).astype(float), (ub > 0).astype(float)
    shared_uni = pairing.dot(ua_bin, ub_bin)
    weighted_shared_a = pairing.dot(ua, ub_bin)  # idf of shared types
    mass_a, mass_b = pairing.sides(
        np.asarray(ua.sum(axis=1)).ravel(), np.asarray(ub.sum(axis=1)).ravel()
    )
    cont_a = _ratio(weighted_shared_a, mass_a)
    cont_b = _ratio(weighted_shared_a, mass_b)
    del idf
    types_a, types_b = pairing.sides(
        np.asarray(ua_bin.sum(axis=1)).ravel(), np.asarray(ub_bin.sum(axis=1)).ravel()
    )
    uni_min = _ratio(shared_uni, np.minimum(types_a, types_b))
    uni_max = _ratio(shared_uni, np.maximum(types_a, types_b))

    def set_overlap(n: int) -> np.ndarray:
        xa, xb = fit(CountVectorizer(analyzer=_ngrams(n), binary=True))
        shared = pairing.dot(xa.astype(float), xb.astype(float))
        sa, sb = pairing.sides(
            np.asarray(xa.sum(axis=1)).ravel(), np.asarray(xb.sum(axis=1)).ravel()
        )
        return _ratio(shared, np.maximum(sa, sb))

    bi_max, tri_max = set_overlap(2), set_overlap(3)

    num_vec = CountVectorizer(analyzer=_numbers, binary=True)
    try:
        nxa, nxb = fit(num_vec)
        n_shared = pairing.dot(nxa.astype(float), nxb.astype(float))
        n_a, n_b = pairing.sides(
            np.asarray(nxa.sum(axis=1)).ravel(), np.asarray(nxb.sum(axis=1)).ravel()
        )
        num_agree = _ratio(n_shared, n_a + n_b - n_shared, empty=1.0)
    except ValueError:  # no number anywhere: empty vocabulary
        num_agree = np.ones(word_cos.shape)

    len_a, len_b = pairing.sides(
        np.array([len(words(s)) for s in a], dtype=float),
        np.array([len(words(s)) for s in b], dtype=float),
    )
    len_ratio = _ratio(np.minimum(len_a, len_b), np.maximum(len_a, len_b))
    del na
    stacked = np.stack(
        [
            word_cos, char_cos, uni_min, uni_max, bi_max, tri_max,
            np.minimum(cont_a, cont_b), num_agree, len_ratio,
        ],
        axis=-1,
    )
    return stacked, cont_a, cont_b


def pair_features(
    a: Sequence[str], b: Sequence[str], context: Sequence[str] = ()
) -> np.ndarray:
    """Features (``len(a) x len(FEATURES)``) of the pairs ``(a[i], b[i])``.

    IDF comes from ``context`` plus the sentences themselves: pass the
    surrounding corpus (for MRPC, every sentence of the file) to get the
    same kind of weights the aligner gets from two whole articles.
    """
    if len(a) != len(b):
        raise ValueError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    if not a:
        return np.zeros((0, len(FEATURES)))
    return _features(a, b, context, paired=True)[0]


def probability(features: np.ndarray, params: AlignParams) -> np.ndarray:
    """The logistic model: probability that each pair says the same thing."""
    z = features @ np.asarray(params.weights) + params.bias
    return 1.0 / (1.0 + np.exp(-z))


def _tokens_ratio(x: Sequence[str], y: Sequence[str]) -> float:
    return difflib.SequenceMatcher(None, list(x), list(y), autojunk=False).ratio()


def pair_decision(
    s1: str, s2: str, params: AlignParams | None = None, context: Sequence[str] = ()
) -> PairDecision:
    """The aligner's decision on one sentence pair (used to evaluate on MRPC)."""
    params = params or AlignParams()
    feats = pair_features([s1], [s2], context)[0]
    p = float(probability(feats[None, :], params)[0])
    same = p >= params.threshold
    copied = same and _tokens_ratio(words(s1), words(s2)) >= params.copied_ratio
    return PairDecision(p, same, copied, dict(zip(FEATURES, map(float, feats), strict=True)))


# ---------------------------------------------------------------- alignment


@dataclass(frozen=True)
class _Side:
    text: str
    spans: tuple[SentenceSpan, ...]
    tokens: Tokens
    bounds: tuple[tuple[int, int], ...]  # token index range of each sentence

    @classmethod
    def of(cls, text: str) -> _Side:
        spans = tuple(split_sentences(text))
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


def _assign(prob: np.ndarray, params: AlignParams) -> dict[int, int]:
    """One-to-one pairs (a index -> b index) maximising summed probability."""
    na, nb = prob.shape
    ok = prob >= params.threshold
    if not ok.any():
        return {}
    # A small bonus for similar relative position only breaks ties between
    # repeated sentences; it cannot outweigh a real difference in evidence.
    pos = 1.0 - np.abs(
        (np.arange(na)[:, None] + 0.5) / na - (np.arange(nb)[None, :] + 0.5) / nb
    )
    gain = np.where(ok, prob + params.position_weight * pos, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return {int(i): int(j) for i, j in zip(rows, cols, strict=True) if ok[i, j]}


def _extras(
    main: dict[int, int],
    cont: np.ndarray,
    n_types: np.ndarray,
    n_self: int,
    params: AlignParams,
) -> dict[int, int]:
    """Leftover sentences of one side that belong to a neighbour's pair.

    ``main`` maps this side's index to the partner; ``cont[x, y]`` is the
    share of ``x``'s words found in ``y`` (IDF-weighted).
    """
    extra: dict[int, int] = {}
    for x in range(n_self):
        if x in main or n_types[x] < params.extra_min_words:
            continue
        partners = {main[n] for n in (x - 1, x + 1) if n in main}
        best = max(partners, key=lambda y: cont[x, y], default=None)
        if best is not None and cont[x, best] >= params.extra_containment:
            extra[x] = best
    return extra


def _orphan_pairs(
    main: dict[int, int], cont_a: np.ndarray, cont_b: np.ndarray,
    types_a: np.ndarray, types_b: np.ndarray, params: AlignParams,
) -> dict[int, int]:
    """Unpaired sentences, one mostly contained in the other (a long sentence
    cut in two halves scores low on symmetric measures): greedy, best first."""
    used_b = set(main.values())
    free_a = [i for i in range(cont_a.shape[0]) if i not in main]
    free_b = [j for j in range(cont_a.shape[1]) if j not in used_b]
    cands = []
    for i in free_a:
        for j in free_b:
            c = max(
                cont_a[i, j] if types_a[i] >= params.extra_min_words else 0.0,
                cont_b[i, j] if types_b[j] >= params.extra_min_words else 0.0,
            )
            if c >= params.extra_containment:
                cands.append((c, i, j))
    out: dict[int, int] = {}
    taken_b: set[int] = set()
    for _, i, j in sorted(cands, reverse=True):
        if i not in out and j not in taken_b:
            out[i] = j
            taken_b.add(j)
    return out


def _ops(side_name: str, opcodes, which: int) -> list[tuple[OpKind, int, int]]:  # type: ignore[no-untyped-def]
    """Token ranges of one side (``which`` 0 = a, 1 = b) from difflib opcodes."""
    out: list[tuple[OpKind, int, int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        lo, hi = (i1, i2) if which == 0 else (j1, j2)
        if hi > lo:
            out.append((tag, lo, hi))
    del side_name
    return out


def align(a_text: str, b_text: str, params: AlignParams | None = None) -> Alignment:
    """Align the sentences of ``a_text`` with those of ``b_text``."""
    params = params or AlignParams()
    sa, sb = _Side.of(a_text), _Side.of(b_text)
    na, nb = len(sa.spans), len(sb.spans)
    a_sents = [s.text for s in sa.spans]
    b_sents = [s.text for s in sb.spans]
    if na and nb:
        feats, cont_a, cont_b = _features(a_sents, b_sents, (), paired=False)
        prob = probability(feats, params)
    else:
        prob = np.zeros((na, nb))
        cont_a = cont_b = prob
    types_a = np.array([len(set(sa.values(i))) for i in range(na)])
    types_b = np.array([len(set(sb.values(j))) for j in range(nb)])

    main = _assign(prob, params)
    main.update(_orphan_pairs(main, cont_a, cont_b, types_a, types_b, params))
    inverse = {j: i for i, j in main.items()}
    extra_a = _extras(main, cont_a, types_a, na, params)  # a extra -> b partner
    extra_b = _extras(inverse, cont_b.T, types_b, nb, params)  # b extra -> a partner

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
        label: Label = "copied" if matcher.ratio() >= params.copied_ratio else "paraphrased"
        quote = _is_quote(codes, sa.tokens, ta, sb.tokens, tb, params.quote_share)
        for side, toks, diffs, which in ((sa, ta, diff_a, 0), (sb, tb, diff_b, 1)):
            for tag, lo, hi in _ops("", codes, which):
                _add_ops(side, toks[lo:hi], tag, diffs)
        for x in group_a:
            score = float(prob[i, j]) if x == i else float(cont_a[x, j])
            labels_a[x] = (label, j, score, quote)
        for y in group_b:
            score = float(prob[i, j]) if y == j else float(cont_b[i, y])
            labels_b[y] = (label, i, score, quote)

    best_a = prob.max(axis=1) if nb else np.zeros(na)
    best_b = prob.max(axis=0) if na else np.zeros(nb)
    side_a = tuple(
        _sentence(k, sa.spans[k], labels_a.get(k), "omitted", best_a[k], diff_a.get(k, []))
        for k in range(na)
    )
    side_b = tuple(
        _sentence(k, sb.spans[k], labels_b.get(k), "added", best_b[k], diff_b.get(k, []))
        for k in range(nb)
    )
    summary = Summary(
        copied=sum(s.label == "copied" for s in side_b),
        paraphrased=sum(s.label == "paraphrased" for s in side_b),
        added=sum(s.label == "added" for s in side_b),
        omitted=sum(s.label == "omitted" for s in side_a),
    )
    return Alignment(side_a, side_b, summary)


def _is_quote(  # type: ignore[no-untyped-def]
    codes, tok_a: Tokens, ta: list[tuple[int, int]], tok_b: Tokens,
    tb: list[tuple[int, int]], share: float,
) -> bool:
    """Whether the shared words of a pair are mostly inside direct quotes
    (on either side: a quotation one outlet prints and the other reports
    without marks is still the speaker's words)."""
    shared = quoted = 0
    for tag, i1, i2, j1, j2 in codes:
        if tag != "equal":
            continue
        shared += i2 - i1
        quoted += sum(
            bool(tok_a.quoted[ta[i1 + k][1]] or tok_b.quoted[tb[j1 + k][1]])
            for k in range(i2 - i1)
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
