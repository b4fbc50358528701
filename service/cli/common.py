"""Shared CLI plumbing: options, settings and an open index."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import redis
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.model import ConfigMismatch
from service.settings import Settings, get_settings
from service.storage.index import Index
from service.storage.server import StoreUnavailable, describe, open_redis

# soft_wrap: a long line (an id, a path) is never broken by rich at 80 columns;
# a terminal wraps it for display, a pipe or file gets it whole.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _plain(cell: object) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def table_lines(table: Table) -> list[str]:
    """``table`` as plain lines: its title, the header (when shown) and one line
    per row, cells separated by tabs, each cell whole (for pipes and files)."""
    columns = table.columns
    lines = [_plain(table.title)] if table.title else []
    if table.show_header:
        lines.append("\t".join(_plain(c.header) for c in columns))
    cells = [[_plain(x) for x in c.cells] for c in columns]
    lines.extend("\t".join(row) for row in zip(*cells, strict=True))
    return lines


def print_table(table: Table, out: Console | None = None) -> None:
    """A rich table on a terminal wide enough for it; plain tab-separated lines
    (``table_lines``) anywhere else, so no id is split or cut to fit 80 columns."""
    out = out or console
    # On a terminal too narrow for the ids, rich would crop them: plain lines then.
    needs = out.measure(table, options=out.options.update_width(1 << 20)).minimum
    if out.is_terminal and needs <= out.width:
        out.print(table)
    else:
        # Written as is: rich would expand the tabs to spaces.
        out.file.write("".join(line + "\n" for line in table_lines(table)))
        out.file.flush()


def id_column(table: Table, header: str, ids: list[str], **kwargs: object) -> None:
    """An id column that never wraps nor truncates on a terminal: as wide as
    the longest id (the other columns give way)."""
    width = max([len(header), *map(len, ids)])
    table.add_column(header, no_wrap=True, min_width=width, overflow="ignore", **kwargs)  # type: ignore[arg-type]


DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Embedded Redis files (env COPYDESK_DATA_DIR).", show_default=False
    ),
]
RedisUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--redis-url", help="External Redis URL (env COPYDESK_REDIS_URL).", show_default=False
    ),
]
IndexOpt = Annotated[
    str | None, typer.Option("--index", help="Index name (env COPYDESK_INDEX).", show_default=False)
]


def settings_from(
    data_dir: Path | None, redis_url: str | None, index: str | None = None
) -> Settings:
    try:
        return get_settings(data_dir=data_dir, redis_url=redis_url, index=index)
    except ValueError as exc:
        err_console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@contextmanager
def open_index(settings: Settings) -> Iterator[Index]:
    """The index for ``settings``; exits with a clear message when it can't be used."""
    try:
        with open_redis(settings) as client:
            index = Index.from_settings(client, settings)
            index.check_config()
            yield index
    except (ConfigMismatch, StoreUnavailable) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        err_console.print(
            f"[red]error:[/red] {describe(settings)} is unreachable ({exc}); "
            "start it or fix --redis-url / COPYDESK_REDIS_URL"
        )
        raise typer.Exit(2) from None
