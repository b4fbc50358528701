"""service.settings: environment, overrides, and what they configure."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.defaults import DEFAULT_MAX_BUCKET, DEFAULT_MAX_CANDIDATES
from service.settings import Settings, get_settings
from shingling import PipelineConfig, Thresholds


def test_defaults_give_the_default_pipeline_and_thresholds() -> None:
    s = Settings()
    assert s.pipeline() == PipelineConfig()
    assert s.thresholds() == Thresholds()
    assert (s.max_candidates, s.max_bucket) == (DEFAULT_MAX_CANDIDATES, DEFAULT_MAX_BUCKET)
    assert s.redis_url is None


def test_environment_then_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYDESK_SHINGLE_K", "4")
    monkeypatch.setenv("COPYDESK_INDEX", "env")
    monkeypatch.setenv("COPYDESK_REDIS_URL", "  ")  # blank: unset
    s = get_settings(index="flag", bands=None)
    assert s.index == "flag" and s.pipeline().k == 4 and s.bands == 64
    assert s.redis_url is None


def test_the_passage_index_and_located_matches_are_settings(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, redis_client: object
) -> None:
    from service.storage.index import Index

    monkeypatch.setenv("COPYDESK_WINNOW", "0")
    monkeypatch.setenv("COPYDESK_MAX_LOCATED", "3")
    s = get_settings(redis_url=settings.redis_url)
    assert s.pipeline() == PipelineConfig(winnow=0) and not s.pipeline().passages
    index = Index.from_settings(redis_client, s)  # type: ignore[arg-type]
    assert index.max_located == 3 and not index.config.passages


def test_wire_source_names() -> None:
    assert Settings(wire_sources=" AP, Reuters ,,").wire_source_names() == ("AP", "Reuters")
    assert Settings(wire_sources="").wire_source_names() == ()


@pytest.mark.parametrize(
    "field",
    [{"index": "has space"}, {"num_perm": 8}, {"bands": 256}, {"winnow": -1}, {"max_located": -1}],
)
def test_out_of_range_values_are_refused(field: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**field)  # type: ignore[arg-type]
