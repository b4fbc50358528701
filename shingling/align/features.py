"""Pair evidence: the features of two sentences that the pair model weighs.

``FEATURES`` names them. Everything counted about a sentence (word 1-4-grams,
5-letter prefixes, numbers) comes from one scikit-learn ``CountVectorizer``
whose analyzer runs ``shingling.tokenise.words``, the project's one tokeniser;
the TF-IDF cosines are over word uni- and bigrams (from the same counts) and
over character 3-5-grams. IDF is fitted on the sentences being compared (plus
any ``context``), so weights depend on the pair of documents.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from shingling.normalise import fold
from shingling.tokenise import words

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
    "seq_ratio",  # difflib ratio of the two token sequences (see Fitted.features)
)


def feature_names(semantic: bool = False) -> tuple[str, ...]:
    """The model's features: ``FEATURES``, or with ``semantic`` the static
    embedding features of ``shingling.semantic`` inserted before ``seq_ratio``
    (which stays last: scoring bounds it and ``decide`` reads it there)."""
    if not semantic:
        return FEATURES
    from shingling.semantic import SEMANTIC_FEATURES

    return (*FEATURES[:-1], *SEMANTIC_FEATURES, FEATURES[-1])


def items(text: str) -> list[str]:
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


def ratio(num: np.ndarray, den: np.ndarray, empty: float = 0.0) -> np.ndarray:
    """``num / den`` elementwise, ``empty`` where ``den`` is 0."""
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _min_max(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> list[np.ndarray]:
    share_a, share_b = ratio(shared, size_a), ratio(shared, size_b)
    return [np.minimum(share_a, share_b), np.maximum(share_a, share_b)]


Pair = tuple[csr_matrix, csr_matrix]


def _binary_pair(pair: Pair) -> Pair:
    return _binary(pair[0]), _binary(pair[1])


class Fitted:
    """Every vectoriser fitted once on ``context + a + b``, and the sparse
    matrices the features are products of (one row per sentence).

    ``paired``: features of ``a[i]`` with ``b[i]``; else of sentences of ``a``
    with every sentence of ``b`` (``b``'s matrices are kept transposed for the
    products). ``features(rows)`` computes one block of rows at a time, so no
    more than ``len(rows) x len(b)`` pairs are ever held at once.
    """

    def __init__(self, a: Sequence[str], b: Sequence[str], context: Sequence[str], paired: bool):
        corpus = [*context, *a, *b]
        self._rows_a = slice(len(context), len(context) + len(a))
        self._rows_b = slice(len(context) + len(a), len(corpus))
        self.paired = paired
        counts = CountVectorizer(analyzer=items)
        all_counts = counts.fit_transform(corpus).tocsc()
        kinds = np.array([k[0] for k in counts.get_feature_names_out()])

        def kind(*tags: str) -> Pair:
            return self._split(all_counts[:, np.flatnonzero(np.isin(kinds, tags))])

        ca, cb = kind("1")
        wa, wb = self._weighted(ca, cb, all_counts[:, np.flatnonzero(kinds == "1")], len(corpus))
        pairs: dict[str, Pair] = {
            **self._tfidf(corpus, all_counts[:, np.isin(kinds, ("1", "2"))]),
            "weighted": (wa, wb),
            "counts": (ca.astype(float), cb.astype(float)),
            **{n: _binary_pair(kind(n)) for n in "1234pd"},
        }
        self.lengths = (_row_sums(ca), _row_sums(cb))
        self.sizes = {n: (_row_sums(pairs[n][0]), _row_sums(pairs[n][1])) for n in "1234pd"}
        self.pairs = {name: (x, y if paired else y.T.tocsr()) for name, (x, y) in pairs.items()}

    def _split(self, m: csr_matrix) -> Pair:
        m = m.tocsr()
        return m[self._rows_a], m[self._rows_b]

    def _tfidf(self, corpus: Sequence[str], word_counts: csr_matrix) -> dict[str, Pair]:
        """scikit-learn TF-IDF over our tokens: word 1-2-grams, and characters."""
        word = self._split(TfidfTransformer(sublinear_tf=True).fit_transform(word_counts))
        chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(3, 5),
            preprocessor=fold,
            lowercase=False,
            sublinear_tf=True,
        )
        return {"word": word, "char": self._split(chars.fit_transform(corpus))}

    def _weighted(self, ca: csr_matrix, cb: csr_matrix, uni: csr_matrix, docs: int) -> Pair:
        """IDF-weighted word types (smooth IDF, as scikit-learn computes it);
        sets ``mass``, each sentence's IDF-weighted total."""
        df = np.asarray((uni > 0).sum(axis=0), dtype=float).ravel()
        idf = np.log((1 + docs) / (1 + df)) + 1
        wa, wb = _binary(ca) @ diags(idf), _binary(cb)
        self.mass = (_row_sums(wa), _row_sums(wb @ diags(idf)))
        return wa, wb

    def dot(self, name: str, rows: slice) -> np.ndarray:
        x, y = self.pairs[name]
        if self.paired:
            return np.asarray(x[rows].multiply(y[rows]).sum(axis=1), dtype=float).ravel()
        return np.asarray((x[rows] @ y).toarray(), dtype=float)

    def sides(
        self, sizes: tuple[np.ndarray, np.ndarray], rows: slice
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-sentence quantities shaped to broadcast against ``dot``'s result."""
        u, v = sizes
        return (u[rows], v[rows]) if self.paired else (u[rows, None], v[None, :])

    def overlap(self, name: str, rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shared distinct items of a kind, and the distinct items of each side."""
        return (self.dot(name, rows), *self.sides(self.sizes[name], rows))

    def features(self, rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features of the pairs of ``rows`` (``... x len(FEATURES)``), plus the two
        directional IDF-weighted containments (share of a's words in b, of b's in a).

        Paired, ``seq_ratio`` is left 0 (``pair_features`` fills it in exactly).
        Otherwise it is the upper bound ``2 * sum(count_a * count_b) / (len_a + len_b)``
        (difflib per pair costs too much for all pairs of two long articles):
        scoring computes it exactly where the pair could matter.
        """
        shared, types_a, types_b = self.overlap("1", rows)
        mass_a, mass_b = self.sides(self.mass, rows)
        shared_mass = self.dot("weighted", rows)
        cont_a, cont_b = ratio(shared_mass, mass_a), ratio(shared_mass, mass_b)
        unshared = np.log1p(np.stack(np.broadcast_arrays(types_a - shared, types_b - shared)))
        n_shared, n_a, n_b = self.overlap("d", rows)
        len_a, len_b = self.sides(self.lengths, rows)
        columns = [
            self.dot("word", rows),
            self.dot("char", rows),
            *_min_max(shared, types_a, types_b),
            *(mm for n in "234p" for mm in _min_max(*self.overlap(n, rows))),
            np.minimum(cont_a, cont_b),
            np.maximum(cont_a, cont_b),
            unshared.min(axis=0),
            unshared.max(axis=0),
            ratio(n_shared, n_a + n_b - n_shared, empty=1.0),
            ratio(np.minimum(len_a, len_b), np.maximum(len_a, len_b)),
            np.abs(len_a - len_b) / 10.0,
        ]
        if self.paired:
            seq = np.zeros(len(shared))
        else:
            seq = np.minimum(1.0, ratio(2.0 * self.dot("counts", rows), len_a + len_b))
        return np.stack([*np.broadcast_arrays(*columns), seq], axis=-1), cont_a, cont_b


def tokens_ratio(x: Sequence[str], y: Sequence[str]) -> float:
    """difflib's ratio of two token sequences (the ``seq_ratio`` feature)."""
    return difflib.SequenceMatcher(None, list(x), list(y), autojunk=False).ratio()


def with_semantic(lexical: np.ndarray, semantic: np.ndarray) -> np.ndarray:
    """Semantic columns inserted before the last lexical one (``seq_ratio``)."""
    return np.concatenate([lexical[..., :-1], semantic, lexical[..., -1:]], axis=-1)


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
    feats = Fitted(a, b, context, paired=True).features(slice(None))[0]
    feats[:, -1] = [tokens_ratio(words(x), words(y)) for x, y in zip(a, b, strict=True)]
    if semantic:
        from shingling import semantic as sem

        feats = with_semantic(feats, sem.paired_features(a, b, context))
    return feats
