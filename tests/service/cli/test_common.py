"""service.cli.common: tables that never cut an id, settings and index errors."""

from __future__ import annotations

import io

import pytest
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.cli.common import id_column, open_index, print_table, settings_from, table_lines
from service.devservers import free_port

LONG_ID = "reuters-2024-10-31-north-korean-troops-in-russia-kursk-region-" + "x" * 40


def _table() -> Table:
    table = Table(title="[b]Matches[/b]")
    id_column(table, "id", [LONG_ID, "a1"])
    table.add_column("verdict")
    table.add_row(LONG_ID, Text("syndicated", style="red"))
    table.add_row("a1", "[green]none[/green]")
    return table


def test_table_lines_are_plain_tab_separated_and_whole() -> None:
    assert table_lines(_table()) == [
        "Matches",
        "id\tverdict",
        f"{LONG_ID}\tsyndicated",
        "a1\tnone",
    ]


def test_a_table_off_a_terminal_is_printed_as_plain_lines() -> None:
    out = io.StringIO()
    print_table(_table(), Console(file=out, width=80))
    assert out.getvalue().splitlines() == table_lines(_table())


def test_on_a_wide_terminal_the_id_column_is_never_cut() -> None:
    out = io.StringIO()
    print_table(_table(), Console(file=out, width=300, force_terminal=True, color_system=None))
    assert LONG_ID in out.getvalue()


def test_invalid_settings_exit_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exc:
        settings_from(None, None, "bad name/")
    assert exc.value.exit_code == 2 and "invalid settings" in capsys.readouterr().err


def test_an_unreachable_redis_exits_2_saying_what_to_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings_from(None, f"redis://127.0.0.1:{free_port()}/0", None)
    with pytest.raises(typer.Exit) as exc, open_index(settings):
        pass
    assert exc.value.exit_code == 2
    assert "unreachable" in capsys.readouterr().err
