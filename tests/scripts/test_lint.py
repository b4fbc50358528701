"""scripts/lint.py: ruff clean, and mypy's error count held to a baseline that only shrinks."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

LINT: dict[str, Any] = runpy.run_path(str(ROOT / "scripts" / "lint.py"))


def test_the_baseline_is_one_number() -> None:
    assert LINT["read_baseline"]() >= 0


def test_a_baseline_file_without_a_number_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "baseline"
    bad.write_text("# comment only\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="one line holding the error count"):
        LINT["read_baseline"](bad)


@pytest.mark.parametrize(
    ("output", "count"),
    [
        ("Success: no issues found in 66 source files\n", 0),
        ("a.py:1: error: x  [misc]\nFound 1 error in 1 file (checked 66 source files)\n", 1),
        ("Found 13 errors in 5 files (checked 66 source files)\n", 13),
        ("Traceback (most recent call last):\n", None),
    ],
)
def test_the_count_is_read_from_mypys_summary(output: str, count: int | None) -> None:
    assert LINT["count_errors"](output) == count


def test_more_errors_than_the_baseline_fail() -> None:
    passed, message = LINT["verdict"](14, 13)
    assert not passed
    assert "more than the baseline of 13" in message and "scripts/mypy-baseline" in message


def test_fewer_errors_pass_and_ask_for_a_lower_baseline() -> None:
    passed, message = LINT["verdict"](10, 13)
    assert passed
    assert "lower the number in scripts/mypy-baseline to 10" in message


def test_as_many_errors_as_the_baseline_pass() -> None:
    assert LINT["verdict"](13, 13)[0]
