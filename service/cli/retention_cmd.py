"""expire: apply the retention period once."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import (
    DataDirOpt,
    IndexOpt,
    RedisUrlOpt,
    console,
    err_console,
    open_index,
    settings_from,
)
from service.retention import sweep


def expire(
    days: Annotated[
        float | None,
        typer.Option(
            help="Expire articles older than this (env COPYDESK_RETENTION_DAYS).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
) -> None:
    """Remove articles published (or, without a date, ingested) more than DAYS ago."""
    settings = settings_from(data_dir, redis_url, index)
    period = days if days is not None else settings.retention_days
    if period is None or period <= 0:
        err_console.print(
            "[red]error:[/red] no retention period: pass --days or set COPYDESK_RETENTION_DAYS"
        )
        raise typer.Exit(2)
    with open_index(settings) as idx:
        removed = sweep(idx, period)
        console.print(
            f"expired {removed} articles older than {period:g} days; "
            f"{idx.count()} articles in the index"
        )


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command()(expire)
