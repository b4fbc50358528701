"""The pair model: a logistic regression over the features and their squares,
and the decision constants of the aligner (``AlignParams``).

The fitted weights are data, not code: ``shingling/data/lexical_model.json``
(the default, lexical features only) and ``shingling/data/pair_model.json``
(lexical + semantic, ``semantic_params()``). Both were fitted on the 4076 MRPC
training pairs by ``service.evaluation.mrpc`` (``copydesk eval mrpc``); each
file records the features it was fitted on, how (``how``), on what
(``fitted_on``) and the command. The lexical fit predates the nested-CV
procedure (C = 10, unscaled features) and is kept so the default aligner does
not change (``docs/quality.md``, "MRPC: the pair decision").
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from shingling.align.features import feature_names


@dataclass(frozen=True)
class Fit:
    """One fitted pair model as a data file stores it."""

    weights: tuple[float, ...]
    bias: float
    threshold: float


def load_fit(name: str, semantic: bool) -> Fit:
    """The fit in ``shingling/data/<name>``, checked against ``feature_names(semantic)``."""
    data = json.loads(resources.files("shingling").joinpath(f"data/{name}").read_text())
    if tuple(data["features"]) != feature_names(semantic):
        raise ValueError(f"shingling/data/{name} was fitted on other features")
    return Fit(
        tuple(float(w) for w in data["weights"]), float(data["bias"]), float(data["threshold"])
    )


LEXICAL = load_fit("lexical_model.json", semantic=False)


@dataclass(frozen=True)
class AlignParams:
    """Decision constants of the aligner.

    ``weights``/``bias``: logistic regression over ``FEATURES`` and their
    squares (``design``), fitted on the MRPC training split (defaults:
    ``shingling/data/lexical_model.json``); ``threshold``: the probability
    above which two sentences are "the same content", chosen by accuracy
    there. ``copied_ratio``: difflib ratio of the
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
    ``context_threshold``/``context_gap``/``context_span``: a sentence left
    over in a gap of at most ``context_gap`` sentences inside a reused
    passage (partners at most ``context_span`` apart) is reused when its
    probability against the passage reaches ``context_threshold`` (0 = off);
    ``context_edge``/``context_edge_span``: up to ``context_gap`` sentences
    just before or after a reused one are reused when their probability
    against a sentence within ``context_edge_span`` of its partner reaches
    ``context_edge`` (0 = off; ``pairing.context_partners``). Chosen on the
    even-numbered PAN 2013 train documents (docs/quality.md).
    ``copy_sentences``/``light_share``/``heavy_share``: the document-level
    ``rewrite_degree`` (how many reused sentences make ``b`` a copy, and the
    paraphrase shares between verbatim, light and heavy rewording);
    ``heading_words``: a reworded line of fewer words that does not end like
    a sentence (a heading) is not counted there (0: every such line counts).
    """

    weights: tuple[float, ...] = LEXICAL.weights
    bias: float = LEXICAL.bias
    threshold: float = LEXICAL.threshold
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
    context_threshold: float = 0.1
    context_gap: int = 2
    context_span: int = 40
    context_edge: float = 0.12
    context_edge_span: int = 10
    # Chosen on the even-numbered half of a PAN 2013 train sample (docs/quality.md).
    copy_sentences: int = 2
    light_share: float = 0.25
    heavy_share: float = 0.75
    heading_words: int = 8

    def __post_init__(self) -> None:
        n = len(feature_names(self.semantic))
        if len(self.weights) != 2 * n:
            raise ValueError(
                f"weights needs {2 * n} values (each feature, then each "
                f"feature squared), got {len(self.weights)}"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")


@functools.lru_cache(maxsize=1)
def semantic_params() -> AlignParams:
    """``AlignParams`` with the semantic features, as fitted on MRPC
    (``shingling/data/pair_model.json``, which records how)."""
    fit = load_fit("pair_model.json", semantic=True)
    return AlignParams(weights=fit.weights, bias=fit.bias, threshold=fit.threshold, semantic=True)


def params_for(semantic: bool) -> AlignParams:
    """The aligner's constants for a setting (``COPYDESK_SEMANTIC``, ``--semantic``):
    lexical only (``AlignParams()``, the default) or with the semantic signal
    (``semantic_params()``)."""
    return semantic_params() if semantic else AlignParams()


def context_floor(params: AlignParams) -> float:
    """The lowest probability the context pass can take (0 when it is off):
    the pairs scoring keeps for ``pairing.context_partners``."""
    on = [x for x in (params.context_threshold, params.context_edge) if x > 0]
    return min(on, default=0.0)


def design(features: np.ndarray) -> np.ndarray:
    """The model's inputs: every feature and its square (a curve per feature)."""
    return np.concatenate([features, features**2], axis=-1)


def probability(features: np.ndarray, params: AlignParams) -> np.ndarray:
    """The logistic model: probability that each pair says the same thing."""
    z = design(features) @ np.asarray(params.weights) + params.bias
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    return out


def decide(
    prob: np.ndarray, features: np.ndarray, shorter: np.ndarray, params: AlignParams
) -> np.ndarray:
    """Which pairs say the same thing: probability at or above the threshold,
    and, when the shorter sentence has fewer than ``params.min_words`` words
    (a fragment, a one-word line), nearly the same words too: the model was
    fitted on full sentences and says little about fragments."""
    fragment = shorter < params.min_words
    return (prob >= params.threshold) & (~fragment | (features[..., -1] >= params.copied_ratio))


def seq_ratio_bounds_probability(params: AlignParams) -> bool:
    """Whether the probability grows with ``seq_ratio`` on [0, 1] (linear weight
    w1 and square weight w2 with w1 >= 0, w1 + 2 w2 >= 0), so that an upper
    bound of the ratio gives an upper bound of the probability."""
    w1 = params.weights[len(feature_names(params.semantic)) - 1]
    w2 = params.weights[-1]
    return w1 >= 0 and w1 + 2 * w2 >= 0
