"""The Typer app's help: every command's description reads as prose."""

from __future__ import annotations

import inspect

import pytest
import typer
from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()


def _commands() -> list[tuple[list[str], typer.core.TyperCommand]]:
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    out: list[tuple[list[str], typer.core.TyperCommand]] = []
    for name, cmd in root.commands.items():
        if isinstance(cmd, typer.core.TyperGroup):
            out += [([name, sub], c) for sub, c in cmd.commands.items()]
        else:
            out.append(([name], cmd))
    return out


@pytest.mark.parametrize("group", [[], ["eval"]], ids=["copydesk", "copydesk eval"])
def test_command_lists_join_a_docstrings_wrapped_lines(group: list[str]) -> None:
    # A docstring's first paragraph is wrapped at 88 columns in the source; the list of
    # commands shows it as one paragraph, so on a wide terminal each fits on one line
    # (Rich markup mode kept the source's line breaks).
    res = runner.invoke(app, [*group, "--help"], env={"COLUMNS": "400", "TERM": "dumb"})
    assert res.exit_code == 0, res.output
    for path, cmd in _commands():
        if path[:-1] != group:
            continue
        first = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        words = first.split()
        assert words, f"{' '.join(path)} has no help"
        line = next(ln for ln in res.output.splitlines() if f" {path[-1]} " in ln)
        # The whole first paragraph, up to its last word, is on the command's line.
        assert words[-1].strip("`") in line, (path, line)
