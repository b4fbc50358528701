"""shingling.pipeline: the one-call analysis equals the stage-by-stage one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shingling import PipelineConfig, kernels
from shingling.pipeline import Analysis, analyse, analyse_staged, sketch

CONFIGS = [PipelineConfig(), PipelineConfig(k=3, num_perm=32, b=16, r=2, seed=7)]

texts = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(list(" \n\n\t\u00a0\u201c\u201d\"'\u2019-.,0123456789abcXYZ")),
    ),
    max_size=600,
)


def _same(one: Analysis, other: Analysis) -> None:
    assert one.shingles.windows.tolist() == other.shingles.windows.tolist()
    assert one.shingles.narrative_windows.tolist() == other.shingles.narrative_windows.tolist()
    assert one.signature.dtype == other.signature.dtype == np.uint32
    assert one.signature.tolist() == other.signature.tolist()
    assert one.bands.dtype == other.bands.dtype == np.uint32
    assert one.bands.tolist() == other.bands.tolist()


def _sketched(text: str, config: PipelineConfig) -> int:
    """What ``kernels.sketch`` made of ``text``: which path ``analyse`` took."""
    return sketch(text, config)[0]


@pytest.mark.parametrize("config", CONFIGS, ids=["shipped", "small"])
def test_seeds_analyse_as_stage_by_stage(
    seed_texts: dict[str, str], config: PipelineConfig
) -> None:
    paths = set()
    for text in seed_texts.values():
        paths.add(_sketched(text, config))
        _same(analyse(text, config), analyse_staged(text, config))
    assert kernels.SKETCHED in paths  # the one-call path is the one under test


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('He said "we will see" and left the hall after the vote.', kernels.SKETCHED),
        ("Home\nNews\nThe minister said on Friday that the talks would go on.", kernels.SHORT_LINE),
        ("The cafe\u0301 opened on Friday and the talks would go on after it.", kernels.UNFOLDABLE),
        ("A long sentence about the talks that went on for a week \U0001d400.", kernels.UNFOLDABLE),
    ],
)
def test_each_path_gives_the_staged_analysis(text: str, path: int) -> None:
    config = CONFIGS[0]
    assert _sketched(text, config) == path
    _same(analyse(text, config), analyse_staged(text, config))


def test_a_text_with_nul_takes_the_staged_path() -> None:
    text = "The talks went on\0 for a week, the minister said on Friday."
    _same(analyse(text, CONFIGS[0]), analyse_staged(text, CONFIGS[0]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_analyses_as_stage_by_stage(text: str) -> None:
    for config in CONFIGS:
        _same(analyse(text, config), analyse_staged(text, config))
