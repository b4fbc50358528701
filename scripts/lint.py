"""Static checks run by scripts/test before pytest: ruff (lint and format) must
be clean, and mypy (strict, configured in pyproject.toml) may report no more
errors than the counted baseline in scripts/mypy-baseline.

    python scripts/lint.py        # from any directory; exit status 1 on failure
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scripts" / "mypy-baseline"
MYPY_TARGETS = ("service", "shingling")

_FOUND = re.compile(r"^Found (\d+) errors? in \d+ files?", re.MULTILINE)
_CLEAN = re.compile(r"^Success: no issues found", re.MULTILINE)


def read_baseline(path: Path = BASELINE) -> int:
    """The one number in ``path`` (lines starting with # are comments)."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    numbers = [ln for ln in lines if ln and not ln.startswith("#")]
    if len(numbers) != 1 or not numbers[0].isdigit():
        raise SystemExit(f"{path}: expected one line holding the error count, got {numbers}")
    return int(numbers[0])


def count_errors(output: str) -> int | None:
    """The error count from mypy's summary line; None when there is none (a crash)."""
    if _CLEAN.search(output):
        return 0
    found = _FOUND.search(output)
    return int(found[1]) if found else None


def verdict(count: int, baseline: int) -> tuple[bool, str]:
    """Whether ``count`` mypy errors pass against ``baseline``, and what to say."""
    rel = BASELINE.relative_to(ROOT)
    if count > baseline:
        return False, (
            f"mypy: {count} errors, more than the baseline of {baseline} in {rel}: "
            "fix the new ones (listed above); do not raise the baseline"
        )
    if count < baseline:
        return True, (
            f"mypy: {count} errors, fewer than the baseline of {baseline}: "
            f"lower the number in {rel} to {count}"
        )
    return True, f"mypy: {count} errors (baseline {baseline})"


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *cmd], cwd=ROOT, capture_output=True, text=True, check=False
    )


def main() -> int:
    ok = True
    for cmd in (("ruff", "check", "--quiet", "."), ("ruff", "format", "--check", "--quiet", ".")):
        done = _run(*cmd)
        if done.returncode != 0:
            ok = False
            sys.stdout.write(done.stdout + done.stderr)
            print(f"{' '.join(cmd)}: failed (ruff must be clean)")
    done = _run("mypy", *MYPY_TARGETS)
    count = count_errors(done.stdout)
    if count is None:
        sys.stdout.write(done.stdout + done.stderr)
        print("mypy: no summary line (did it crash?)")
        return 1
    passed, message = verdict(count, read_baseline())
    if not passed:
        sys.stdout.write(done.stdout)
    print(message)
    return 0 if ok and passed else 1


if __name__ == "__main__":
    sys.exit(main())
