"""The ``copydesk`` command line (Typer).

Feature modules register their commands: each module in ``COMMAND_MODULES``
exposes ``register(app, eval_app)``.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="copydesk",
    help="Find news articles that rework the same wire copy, and show what was copied.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
eval_app = typer.Typer(help="Measure quality on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

COMMAND_MODULES = [
    "service.cli.core",
    "service.cli.verdicts_cmd",
    "service.cli.check_cmd",
    "service.cli.cluster_cmd",
    "service.cli.retention_cmd",
    "service.cli.align_cmd",
    "service.cli.eval_cmd",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app, eval_app)


def main() -> None:
    app()
