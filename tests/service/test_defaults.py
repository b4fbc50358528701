"""service.defaults: the limits hold together (a setting's default is a limit
the index can use)."""

from __future__ import annotations

from service import defaults
from service.settings import Settings


def test_settings_take_the_defaults() -> None:
    s = Settings()
    assert s.max_candidates == defaults.DEFAULT_MAX_CANDIDATES
    assert s.max_bucket == defaults.DEFAULT_MAX_BUCKET
    assert s.max_passage_candidates == defaults.DEFAULT_MAX_PASSAGE_CANDIDATES


def test_the_fixed_limits_fit_inside_the_settings() -> None:
    assert 0 < defaults.MAX_SINGLE_FINGERPRINT_CANDIDATES <= defaults.DEFAULT_MAX_PASSAGE_CANDIDATES
    assert 0 < defaults.MAX_LOCATED <= Settings().max_results
