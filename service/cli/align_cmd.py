"""`copydesk align A B`: sentence alignment of two files or stored articles."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.common import (
    DataDirOpt,
    IndexOpt,
    RedisUrlOpt,
    console,
    err_console,
    open_index,
    settings_from,
)

if TYPE_CHECKING:
    from shingling.align import Alignment

STYLES = {
    "copied": "on #5c1f1a",
    "paraphrased": "on #5a4310",
    "added": "on #173d22",
    "omitted": "dim",
}
#: ``--semantic/--lexical``: unset, ``COPYDESK_SEMANTIC`` decides (semantic by default;
#: ``COPYDESK_SEMANTIC=0`` for lexical only).
SemanticOpt = Annotated[
    bool | None,
    typer.Option(
        "--semantic/--lexical",
        help="Pair model: lexical + static embeddings, or lexical only "
        "(env COPYDESK_SEMANTIC; default semantic; 0 for lexical only).",
        show_default=False,
    ),
]

OP_STYLES = {
    "replace": "bold underline yellow",
    "insert": "bold underline green",
    "delete": "bold strike red",
}


def _load(refs: list[str], data_dir: Path | None, redis_url: str | None, index: str | None):  # type: ignore[no-untyped-def]
    """(text, Meta) for each reference: a readable file, else a stored article id."""
    from service.alignment_view import Meta

    out: list[tuple[str, Meta] | None] = [None] * len(refs)
    stored = []
    for k, ref in enumerate(refs):
        label = "AB"[k]
        path = Path(ref)
        if path.is_file():
            out[k] = (path.read_text(encoding="utf-8", errors="replace"), Meta(label, path.name))
        else:
            stored.append(k)
    if stored:
        with open_index(settings_from(data_dir, redis_url, index)) as idx:
            for k in stored:
                art = idx.get(refs[k])
                if art is None:
                    err_console.print(
                        f"[red]error:[/red] {refs[k]!r} is neither a file nor a stored article id"
                    )
                    raise typer.Exit(2)
                out[k] = (art.text, Meta("AB"[k], art.title or art.id, art.source, art.url, art.id))
    return out


def _cell(c) -> Text:  # type: ignore[no-untyped-def]
    s = c.sentence
    text = Text(f"{c.anchor.upper()}", style="bold")
    if c.partner:
        text.append(f"→{c.partner.upper()}", style="bold")
    text.append(" ")
    for p in c.pieces:
        text.append(p.text, style=OP_STYLES.get(p.op or "", ""))
    if s.quote:
        text.append(" [quote]", style="italic cyan")
    text.stylize(STYLES[s.label])
    return text


def align_cmd(
    a: Annotated[str, typer.Argument(help="File path or stored article id of the original.")],
    b: Annotated[str, typer.Argument(help="File path or stored article id to compare.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the alignment as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the side-by-side HTML page here.")
    ] = None,
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
    semantic: SemanticOpt = None,
) -> None:
    """Which sentences of B are copied, paraphrased or added, and what A had that B omits."""
    from service.alignment_view import render, too_many
    from shingling.align import TooManySentences, align, params_for

    loaded = _load([a, b], data_dir, redis_url, index)
    (a_text, a_meta), (b_text, b_meta) = loaded
    settings = settings_from(data_dir, redis_url, index)
    use_semantic = settings.semantic if semantic is None else semantic
    params = params_for(use_semantic)
    try:
        result = align(a_text, b_text, params, max_sentences=settings.max_align_sentences)
    except TooManySentences as exc:
        err_console.print(f"[red]error:[/red] {too_many(exc)}")
        raise typer.Exit(2) from None
    if html is not None:
        html.write_text(render(result, a_meta, b_meta, semantic=use_semantic), encoding="utf-8")
    if as_json:
        payload = {
            "a": [asdict(s) for s in result.a],
            "b": [asdict(s) for s in result.b],
            "summary": asdict(result.summary),
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    _print_side_by_side(result, a_meta.title, b_meta.title)
    if html is not None:
        console.print(f"HTML page written to {html}")


def _print_side_by_side(result: Alignment, a_title: str, b_title: str) -> None:
    """The alignment as a two-column table, its label counts and its rewrite degree."""
    from service.alignment_view import rows

    table = Table(show_lines=True, expand=True)
    table.add_column(f"A: {a_title}", ratio=1, overflow="fold")
    table.add_column(f"B: {b_title}", ratio=1, overflow="fold")
    for row in rows(result):
        table.add_row(
            Text("\n").join(_cell(c) for c in row.a), Text("\n").join(_cell(c) for c in row.b)
        )
    console.print(table)
    sm = result.summary
    legend = Text()
    for label, count in (
        ("copied", sm.copied),
        ("paraphrased", sm.paraphrased),
        ("added", sm.added),
        ("omitted", sm.omitted),
    ):
        legend.append(f" {label} {count} ", style=STYLES[label])
        legend.append("  ")
    console.print(legend)
    degree = sm.rewritten or "no: B is not a copy of A"
    console.print(
        f"rewritten: {degree} ({sm.reused} reused sentences, "
        f"{sm.paraphrase_share:.0%} of them paraphrased)"
    )


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("align")(align_cmd)
