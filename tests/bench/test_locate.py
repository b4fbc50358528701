"""bench.locate at a tiny size: it runs and prints its table (no timing asserted)."""

from __future__ import annotations

import pytest

from bench.locate import main


def test_prints_both_ways_and_their_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--articles", "12", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("machine: ")
    for row in (
        "query sorted once",
        "sorted per pair",
        "ratio shipped / baseline",
        "locate one",
        "one compiled call (shipped)",
        "one call per match (baseline)",
    ):
        assert row in out
