"""scripts/test: the README's test command leaves its run command's venv alone."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_the_suite_installs_into_a_venv_of_its_own() -> None:
    """Reinstalling copydesk into the venv `copydesk serve` runs from deletes the
    files under the running server (its templates: /view answered 500)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = re.search(r"-m venv (\S+) && (\S+)/bin/pip install \. &&", readme)
    assert run, "the README's run command is no longer `python3.11 -m venv DIR && DIR/bin/pip ...`"
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    venv = re.search(r'^VENV="\$\{VENV:-([^}]+)\}"$', script, re.MULTILINE)
    assert venv, "scripts/test no longer names its venv as VENV=${VENV:-DIR}"
    assert venv[1].rstrip("/") not in {run[1].rstrip("/"), run[2].rstrip("/")}
    installs = re.findall(r"^(\S+) -m pip install .*$", script, re.MULTILINE)
    assert installs and all(i == '"$VENV/bin/python"' for i in installs), installs


def test_the_static_checks_run_before_pytest() -> None:
    """ruff and mypy (scripts/lint.py) gate the suite: they run first, and a failure stops it."""
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in script
    lint = script.index('"$VENV/bin/python" scripts/lint.py')
    assert lint < script.index('exec "$VENV/bin/python" -m pytest')
