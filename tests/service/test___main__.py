"""service.__main__: ``python -m service`` is the ``copydesk`` command."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_python_m_service_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rework the same wire copy" in done.stdout and "ingest" in done.stdout
