"""service.evaluation.verdicts: the index's verdicts and LSH candidacy per PAN subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluation import verdicts
from shingling import PipelineConfig, Thresholds
from tests.service.evaluation.test_pan import write_corpus


def test_each_subset_counts_its_pairs_verdicts_and_candidates(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    results = {
        r.subset: r
        for r in verdicts.evaluate(
            tmp_path, limit=None, config=PipelineConfig(), thresholds=Thresholds()
        )
    }
    copied, negative = results["02-no-obfuscation"], results["01-no-plagiarism"]
    assert copied.pairs == 1 and negative.pairs == 1
    assert negative.rate("none") == 1.0 and negative.candidates == 0
    assert copied.rate("none") < 1.0  # a pasted passage: partial at least
    table = verdicts.markdown([copied, negative])
    assert table.splitlines()[0].startswith("| subset | pairs | median J |")
    assert "| 02-no-obfuscation | 1 |" in table and "| 01-no-plagiarism | 1 |" in table


def test_a_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verdicts.evaluate(
            tmp_path / "missing", limit=None, config=PipelineConfig(), thresholds=Thresholds()
        )
