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

from service.index import ConfigMismatch, Index
from service.settings import Settings, get_settings
from service.store import StoreUnavailable, describe, open_redis

console = Console()
err_console = Console(stderr=True)

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
