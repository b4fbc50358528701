"""`copydesk eval mrpc|pan|retrieval`: options, errors and the printed reports
(the evaluations themselves: tests/service/evaluation/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.service.evaluation.test_mrpc import write_tsv
from tests.service.evaluation.test_pan import write_corpus


def test_eval_mrpc_on_a_directory_or_a_missing_file_says_what_it_expects(tmp_path: Path) -> None:
    (tmp_path / "msr_paraphrase_train.txt").write_text(
        "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    )
    for path, said in (
        (tmp_path, "got a directory"),
        (tmp_path / "missing.tsv", "no such file"),
    ):
        r = CliRunner().invoke(app, ["eval", "mrpc", str(path)])
        assert r.exit_code == 2, r.output
        assert said in r.output and "msr_paraphrase_train.txt layout" in r.output
        assert "Errno" not in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["eval", "mrpc", str(tmp_path)])
    assert "pass one of those" in r.output  # the folder holds the file: say so


def test_eval_mrpc_prints_lexical_and_semantic_side_by_side(tmp_path: Path) -> None:
    f = tmp_path / "mrpc.tsv"
    write_tsv(f)
    out = tmp_path / "model.json"
    r = CliRunner().invoke(app, ["eval", "mrpc", str(f), "--folds", "4", "--save-model", str(out)])
    assert r.exit_code == 0, r.output
    assert "| lexical |" in r.output and "| lexical + semantic |" in r.output
    assert json.loads(out.read_text())["features"][-1] == "seq_ratio"
    r = CliRunner().invoke(app, ["eval", "mrpc", str(f), "--folds", "4", "--lexical-only"])
    assert r.exit_code == 0 and "lexical + semantic" not in r.output
    r = CliRunner().invoke(app, ["eval", "mrpc", str(f), "--folds", "4", "--semantic"])
    assert r.exit_code == 0, r.output
    assert "| lexical + semantic |" in r.output and "| lexical |" not in r.output


@pytest.mark.parametrize("command", ["pan", "retrieval"])
def test_eval_on_a_wrong_path_says_what_it_expects(tmp_path: Path, command: str) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a corpus")
    for path, said in (
        (tmp_path / "missing", "no such folder"),
        (a_file, "got a file"),
        (tmp_path, "has no susp/ and src/ folders"),
    ):
        r = CliRunner().invoke(app, ["eval", command, str(path)])
        assert r.exit_code == 2, r.output
        assert said in r.output and "pan13_train folder" in r.output
        assert "Errno" not in r.output and "Traceback" not in r.output


def test_eval_pan_refuses_an_unknown_pair_model(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["eval", "pan", str(tmp_path), "--model", "bert"])
    assert r.exit_code == 2 and "lexical, semantic or both" in r.output


def test_eval_mrpc_refuses_lexical_only_with_semantic(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["eval", "mrpc", str(tmp_path), "--lexical-only", "--semantic"])
    assert r.exit_code == 2 and "exclude each other" in r.output


@pytest.mark.parametrize("command", ["pan", "retrieval"])
def test_eval_refuses_an_unknown_fold(tmp_path: Path, command: str) -> None:
    r = CliRunner().invoke(app, ["eval", command, str(tmp_path), "--fold", "third"])
    assert r.exit_code == 2 and "--fold is all, even or odd, not 'third'" in r.output


def test_eval_pan_prints_the_three_tables(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    r = CliRunner().invoke(app, ["eval", "pan", str(tmp_path), "--first", "--model", "lexical"])
    assert r.exit_code == 0, r.output
    assert "### Pair model: lexical" in r.output
    assert "the first 50 annotated pairs per subset; 1 unannotated summary pairs" in r.output
    assert "| none | 2 | 1.000 | 0.000 | 0.000 | copied: **1.000** |" in r.output
    assert "| 02-no-obfuscation | 1/1 |" in r.output
    assert "| subset | pairs | a copy (rewritten set) | verbatim | light | heavy |" in r.output
    r = CliRunner().invoke(app, ["eval", "pan", str(tmp_path), "--model", "both", "--json"])
    assert r.exit_code == 0, r.output
    both = json.loads(r.stdout)
    assert set(both) == {"lexical", "semantic"} and both["lexical"]["pairs"] == 2
