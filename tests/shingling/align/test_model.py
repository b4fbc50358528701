"""shingling.align.model: the fitted weights as data, the logistic model, the decision."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from shingling.align import FEATURES, AlignParams, decide, design, feature_names, probability
from shingling.align.model import load_fit, params_for, semantic_params


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="weights"):
        AlignParams(weights=(1.0,))
    with pytest.raises(ValueError, match="threshold"):
        AlignParams(threshold=1.5)


@pytest.mark.parametrize(
    ("name", "semantic"), [("lexical_model.json", False), ("pair_model.json", True)]
)
def test_each_data_file_records_its_fit(name: str, semantic: bool) -> None:
    data = json.loads(resources.files("shingling").joinpath(f"data/{name}").read_text())
    assert tuple(data["features"]) == feature_names(semantic)
    assert len(data["weights"]) == 2 * len(data["features"])
    assert "MRPC" in data["fitted_on"] and data["how"] and data["command"]


def test_default_params_are_the_lexical_data_file() -> None:
    fit = load_fit("lexical_model.json", semantic=False)
    params = AlignParams()
    assert (params.weights, params.bias, params.threshold) == (
        fit.weights,
        fit.bias,
        fit.threshold,
    )
    assert len(params.weights) == 2 * len(FEATURES) and not params.semantic
    assert params_for(False) == params


def test_semantic_params_are_the_pair_model_file() -> None:
    fit = load_fit("pair_model.json", semantic=True)
    params = semantic_params()
    assert params.semantic and params.weights == fit.weights and params.bias == fit.bias
    assert params_for(True) is params


def test_a_fit_on_other_features_is_refused() -> None:
    with pytest.raises(ValueError, match="other features"):
        load_fit("pair_model.json", semantic=False)


def test_design_is_features_then_squares() -> None:
    x = np.array([[0.5, 2.0], [1.0, -1.0]])
    assert design(x).tolist() == [[0.5, 2.0, 0.25, 4.0], [1.0, -1.0, 1.0, 1.0]]


def test_probability_is_the_logistic_of_the_linear_score() -> None:
    n = len(FEATURES)
    params = AlignParams(weights=(1.0,) + (0.0,) * (2 * n - 1), bias=-0.5)
    x = np.zeros((3, n))
    x[:, 0] = [0.5, 0.0, 100.0]
    p = probability(x, params)
    assert p[0] == pytest.approx(0.5)
    assert p[1] == pytest.approx(1 / (1 + np.exp(0.5)))
    assert 0.999 < p[2] <= 1.0  # clipped, no overflow


def test_a_fragment_needs_nearly_the_same_words() -> None:
    params = AlignParams()
    feats = np.zeros((3, len(FEATURES)))
    feats[:, -1] = [0.5, 0.9, 0.5]  # seq_ratio
    prob = np.array([0.9, 0.9, 0.9])
    shorter = np.array([2, 2, 10])  # two fragments, one full sentence
    assert decide(prob, feats, shorter, params).tolist() == [False, True, True]
    assert not decide(np.array([0.1]), feats[:1], np.array([10]), params)[0]
