"""``copydesk check``: scan an index for orphans and dangling references."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from service.cli.common import (
    DataDirOpt,
    IndexOpt,
    RedisUrlOpt,
    console,
    open_index,
    settings_from,
)
from service.storage.check import check as check_index


def check(
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
    show: Annotated[int, typer.Option(help="Most problems to list (all are counted).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """Check the index is consistent: every id, doc, signature, LSH entry, passage
    fingerprint posting and time entry refers to the others. Exit code 1 when any
    problem is found. Run it on a quiet index: writes in flight show up as transient
    problems."""
    settings = settings_from(data_dir, redis_url, index)
    with open_index(settings) as idx:
        report = check_index(idx.client, idx.config, index=settings.index)
    counts = {
        "articles": report.articles,
        "docs": report.docs,
        "signature_slots": report.signature_slots,
        "lsh_entries": report.lsh_entries,
        "fp_entries": report.fp_entries,
        "bytime": report.bytime,
    }
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "ok": report.ok,
                    **counts,
                    "problems_by_kind": report.by_kind(),
                    "problems": [
                        {"kind": p.kind, "detail": p.detail} for p in report.problems[:show]
                    ],
                }
            )
        )
    else:
        console.print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
        if report.ok:
            console.print("[green]ok[/green]: no orphans and no dangling references")
        else:
            summary = ", ".join(f"{k} {v}" for k, v in report.by_kind().items())
            console.print(f"[red]{len(report.problems)} problems[/red]: {summary}")
            for p in report.problems[:show]:
                console.print(f"  {p.kind}: {p.detail}", markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command()(check)
