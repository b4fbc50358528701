"""`copydesk eval verdicts PATH`: document-level verdicts on PAN pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import err_console


def verdicts(
    path: Annotated[Path, typer.Argument(help="The pan13_train folder (PAN 2013 layout).")],
    limit: Annotated[int, typer.Option(help="Pairs per subset (0 = all).")] = 200,
) -> None:
    """How the index's verdicts and LSH candidacy fall on each kind of PAN reuse."""
    from service.evaluation.verdicts import evaluate, markdown
    from service.settings import get_settings

    settings = get_settings()  # COPYDESK_* thresholds and pipeline, as the service uses
    try:
        results = evaluate(
            path, limit=limit or None, config=settings.pipeline(), thresholds=settings.thresholds()
        )
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    typer.echo(markdown(results))


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    eval_app.command("verdicts")(verdicts)
