"""The ``copydesk`` command line (Typer).

Each feature module registers its commands with ``register(app, eval_app)``.
"""

from __future__ import annotations

import typer

from service.cli import (
    align_cmd,
    check_cmd,
    cluster_cmd,
    core,
    eval_cmd,
    retention_cmd,
    verdicts_cmd,
)

app = typer.Typer(
    name="copydesk",
    help="Find news articles that rework the same wire copy, and show what was copied.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Docstrings wrap at 88 columns in the source. Rich markup mode would keep those
    # line breaks in the help; Markdown joins them into paragraphs.
    rich_markup_mode="markdown",
)
eval_app = typer.Typer(
    help="Measure quality on labelled data.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(eval_app, name="eval")

for _module in (core, verdicts_cmd, check_cmd, cluster_cmd, retention_cmd, align_cmd, eval_cmd):
    _module.register(app, eval_app)


def main() -> None:
    app()
