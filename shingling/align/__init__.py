"""Sentence alignment of two texts: copied, paraphrased, added, omitted.

``align(a, b)`` splits both texts into sentences (``shingling.sentences``),
scores every sentence pair from lexical evidence only, pairs sentences up and
labels each one. The rooms, in the order ``align`` goes through them:

* ``features``: the pair evidence (``FEATURES``): cosine of scikit-learn
  TF-IDF vectors over word uni- and bigrams and over character 3-5-grams;
  exact overlap of word 1-4-gram and 5-letter-prefix sets; IDF-weighted
  containment; unshared word counts; agreement of the numbers; length ratio
  and difference; difflib's ratio of the two token sequences. IDF is fitted
  on the sentences of the two texts being aligned, so weights depend on the
  pair of documents; the model was fitted with IDF over a whole corpus
  (MRPC), so probabilities on two short texts are less well calibrated.
* ``model``: a logistic model over the features and their squares gives the
  probability that two sentences say the same thing (``AlignParams``; the
  fitted weights are data files in ``shingling/data/``, each recording how it
  was fitted). ``AlignParams(semantic=True)`` (``semantic_params()``) adds
  static-embedding features (``shingling.semantic``); the default stays
  lexical (``docs/quality.md``, "Semantic signal").
* ``scoring``: every pair scored a block of rows at a time, keeping only the
  pairs that can matter: memory grows with those, not with ``n_a x n_b``;
  time does, so callers bound the sentence counts (``align(max_sentences=)``).
* ``pairing``: a one-to-one assignment maximising the summed probability
  (Hungarian algorithm per connected component, order-free, so reordered
  paragraphs align), then a many-to-one pass for split or merged sentences.
* ``labels``: ``copied`` / ``paraphrased`` / ``added`` / ``omitted`` per
  sentence, shared quotations, the summary and ``rewrite_degree``;
  ``pair_decision`` exposes the decision on one pair for evaluation.
* ``diff``: the word ops of each matched sentence (``WordOp``).
* ``sides``: a text with its sentences and tokens; ``aligner``: ``align``.

Pairs with a clause of their own (a merged sentence) or in which one
sentence is only a fragment are the weak spot of a symmetric score; they
are handled by the containment passes of ``pairing``, not by the model.

Everything here is approximate: a paraphrase that shares few words is
missed (by default lexical evidence only; the static embeddings help a
little), and a sentence that merely repeats the other text's vocabulary can
be paired wrongly.
"""

from shingling.align.aligner import TooManySentences, align
from shingling.align.diff import OpKind, WordOp
from shingling.align.features import FEATURES, feature_names, pair_features
from shingling.align.labels import (
    Alignment,
    Label,
    PairDecision,
    Rewritten,
    Sentence,
    Summary,
    pair_decision,
    rewrite_degree,
)
from shingling.align.model import (
    AlignParams,
    decide,
    design,
    params_for,
    probability,
    semantic_params,
)

__all__ = [
    "FEATURES",
    "AlignParams",
    "Alignment",
    "Label",
    "OpKind",
    "PairDecision",
    "Rewritten",
    "Sentence",
    "Summary",
    "TooManySentences",
    "WordOp",
    "align",
    "decide",
    "design",
    "feature_names",
    "pair_decision",
    "pair_features",
    "params_for",
    "probability",
    "rewrite_degree",
    "semantic_params",
]
