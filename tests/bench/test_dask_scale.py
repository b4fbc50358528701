"""bench.dask_scale end to end at a tiny size: both engines agree (no timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.dask_scale import SNAPSHOT, main


@pytest.mark.slow
def test_dask_scale_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--articles", "120", "--workers", "1", "--repeat", "1", "--ingest-workers", "1",
            "--keep", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert (tmp_path / "120-7" / SNAPSHOT).exists()
    assert first["in_process"]["clusters"] > 0
    assert first["dask_1_workers"]["same_as_in_process"] is True
    assert first["dask_1_workers"]["job_cores"] > 0
    # The second run reloads the snapshot: no ingest, the same clusters.
    assert main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert "ingest_s" not in second
    assert second["in_process"]["clusters"] == first["in_process"]["clusters"]
