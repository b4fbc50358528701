"""`copydesk eval verdicts PATH`: the verdict table, or a clear error."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from tests.service.evaluation.test_pan import write_corpus


def test_eval_verdicts_prints_one_row_per_subset(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    r = CliRunner().invoke(app, ["eval", "verdicts", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "| subset | pairs |" in r.output and "| 02-no-obfuscation | 1 |" in r.output


def test_eval_verdicts_on_a_missing_folder_exits_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["eval", "verdicts", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "error" in r.output and "Traceback" not in r.output
