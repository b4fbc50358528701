import pytest

from shingling import PipelineConfig


def test_fingerprint_stable_and_sensitive() -> None:
    assert PipelineConfig().fingerprint == PipelineConfig().fingerprint
    assert PipelineConfig().fingerprint != PipelineConfig(k=4).fingerprint
    assert PipelineConfig().fingerprint != PipelineConfig(normaliser_version=99).fingerprint


def test_round_trip() -> None:
    cfg = PipelineConfig(k=3, num_perm=64, b=32, r=2, seed=7)
    assert PipelineConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize("kwargs", [{"k": 0}, {"b": 100, "r": 2}, {"r": 0}, {"winnow": -1}])
def test_invalid(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PipelineConfig(**kwargs)


def test_candidate_probability_shipped_params() -> None:
    cfg = PipelineConfig()
    assert cfg.candidate_probability(0.22) > 0.95
    assert cfg.candidate_probability(0.01) < 0.01


def test_winnow_zero_means_no_passage_index() -> None:
    off, on = PipelineConfig(winnow=0), PipelineConfig()
    assert not off.passages and off.guaranteed_run is None
    assert on.passages and on.guaranteed_run == on.winnow + on.k - 1
    assert off.fingerprint != on.fingerprint  # an index is built one way or the other
