"""bench.steps at a tiny size: every stage is timed, the files are written (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.steps import main


def test_steps_times_every_stage_and_both_sides_of_the_write(tmp_path: Path) -> None:
    assert main(["--articles", "300", "--rounds", "1", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "steps.json").read_text())
    stages = result["stages_us"]
    assert set(stages) >= {"analyse (one compiled call)", "analyse_staged (the reference path)"}
    assert all(us > 0 for us in stages.values())
    assert result["write_client_cpu_us"] > 0 and result["put_lua_us"] > 0
    assert result["analyse_over_staged"] > 0
    assert result["machine"]["redis"] and result["machine"]["floor_per_s"] > 0
    assert "| write: Redis time in put.lua |" in (tmp_path / "steps.md").read_text()
