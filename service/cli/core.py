"""serve, ingest, match, demo: the everyday commands."""

from __future__ import annotations

import contextlib
import json
import signal
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from service.bulk import ingest_batches
from service.cli.common import (
    DataDirOpt,
    IndexOpt,
    RedisUrlOpt,
    console,
    err_console,
    id_column,
    open_index,
    print_table,
    settings_from,
    setup_logging,
)
from service.corpus import BadRecord, count_inputs, read_articles
from service.intake import Rejected, to_article
from service.model import ArticleIn, EmptyText, Match
from service.settings import Settings
from service.storage.index import Index
from service.storage.query import RewritePass
from service.storage.server import describe

#: Articles per ``Index.put_many`` call: one pipeline of atomic scripts each.
INGEST_BATCH = 256


def ingest_paths(
    index: Index,
    settings: Settings,
    paths: list[Path],
    *,
    quiet: bool = False,
    workers: int = 1,
) -> dict[str, int]:
    """Index every article under ``paths`` in batches; returns counts by outcome.

    Batches go through ``service.bulk.ingest_batches``: one is analysed (in
    ``workers`` processes when > 1) while the previous one is written.
    """
    counts = {"created": 0, "replaced": 0, "unchanged": 0, "rejected": 0}
    total = count_inputs(paths)
    columns = (
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    origins: deque[list[str]] = deque()  # where each batch in flight came from

    def reject(where: str, why: object) -> None:
        counts["rejected"] += 1
        err_console.print(f"[yellow]skipped[/yellow] {where}: {why}")

    def batches() -> Iterator[list[ArticleIn]]:
        batch: list[tuple[str, ArticleIn]] = []
        for entry in read_articles(paths):
            if isinstance(entry, BadRecord):
                bar.advance(task)
                reject(entry.where, entry.message)
                continue
            try:
                article = to_article(entry.body, max_text_chars=settings.max_text_chars)
            except Rejected as exc:
                bar.advance(task)
                reject(entry.where, exc)
                continue
            batch.append((entry.where, article))
            if len(batch) >= INGEST_BATCH:
                origins.append([where for where, _ in batch])
                yield [a for _, a in batch]
                batch = []
        if batch:
            origins.append([where for where, _ in batch])
            yield [a for _, a in batch]

    with Progress(*columns, console=err_console, disable=quiet, transient=False) as bar:
        task = bar.add_task("ingest", total=total)
        for results in ingest_batches(index, batches(), workers=workers):
            for where, result in zip(origins.popleft(), results, strict=True):
                if isinstance(result, EmptyText):
                    reject(where, result)
                else:
                    counts[result.status] += 1
            bar.advance(task, len(results))
    return counts


def _matches_table(title: str, matches: list[Match]) -> Table:
    """Ranked matches; source and title columns only when some match has them."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", style="dim", justify="right")
    id_column(table, "id", [m.id for m in matches], style="bold")
    table.add_column("verdict", no_wrap=True)
    for name in ("jaccard", "contain.", "reverse", "shared"):
        table.add_column(name, justify="right", no_wrap=True)
    rewrites = any(m.rewrite for m in matches)
    if rewrites:
        table.add_column("rewrite", no_wrap=True)
    extras = [n for n in ("source", "title") if any(getattr(m, n) for m in matches)]
    for name in extras:
        table.add_column(name, style="dim", overflow="fold")
    colours = {"duplicate": "red", "syndicated": "magenta", "partial": "yellow"}
    for rank, m in enumerate(matches, 1):
        table.add_row(
            str(rank),
            m.id,
            f"[{colours[m.verdict]}]{m.verdict}[/]",
            f"{m.jaccard:.3f}",
            f"{m.containment:.3f}",
            f"{m.reverse_containment:.3f}",
            # the share of each text inside the shared passages: this one's / the match's
            f"{m.query_share:.0%}/{m.match_share:.0%}",
            *([_rewrite_cell(m)] if rewrites else []),
            *[(getattr(m, n) or "")[:60] for n in extras],
        )
    return table


def _rewrite_cell(m: Match) -> str:
    """The aligner's judgement in a few words, e.g. ``light, 80% of query``:
    the degree and how much of the copy (the query or the match) was reused;
    dim when the pair is not linked (no copy, or under 30 % reused)."""
    r = m.rewrite
    if r is None:
        return ""
    text = f"{r.rewritten or 'no copy'}, {r.reused_share:.0%} of {r.copy_side}"
    return text if r.linked else f"[dim]{text}[/]"


def _match_json(matches: list[Match]) -> list[dict[str, object]]:
    out = []
    for m in matches:
        row = {**asdict(m), "verdict": str(m.verdict)}
        row.pop("number", None)  # the index's internal doc number
        row["passages"] = [  # named as the API names them
            {
                "query_start": p.a_start,
                "query_end": p.a_end,
                "match_start": p.b_start,
                "match_end": p.b_end,
                "words": p.words,
            }  # fmt: skip
            for p in m.passages
        ]
        out.append(row)
    return out


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
    ingest: Annotated[
        list[Path] | None,
        typer.Option("--ingest", help="Files or folders to index before serving (repeatable)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP API. Stops cleanly on Ctrl-C or SIGTERM (and with it the embedded Redis)."""
    import uvicorn

    from service.api import create_app

    setup_logging()
    settings = settings_from(data_dir, redis_url, index)
    with open_index(settings) as idx:
        if ingest:
            counts = ingest_paths(idx, settings, ingest)
            err_console.print(ingested_line(counts), markup=False, highlight=False)
        app = create_app(settings, client=idx.client)
        err_console.print(serving_line(settings, host, port, idx.count()), highlight=False)
        with _stop_on_signals():
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level=log_level,
                timeout_keep_alive=settings.keep_alive,
            )
    err_console.print("copydesk stopped; the index is saved")


def ingested_line(counts: dict[str, int]) -> str:
    """What an ingest did, as a sentence (not a dict)."""
    read = sum(counts.values())
    return (
        f"ingested {read} articles: {counts['created']} created, {counts['replaced']} "
        f"replaced, {counts['unchanged']} unchanged, {counts['rejected']} rejected"
    )


def serving_line(settings: Settings, host: str, port: int, articles: int) -> str:
    """Where the service listens and what it serves from, in one line."""
    where = describe(settings)
    return (
        f"copydesk on http://{host}:{port} (API docs: http://{host}:{port}/docs); "
        f"index '{settings.index}' on {where}, {articles} articles"
    )


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM/SIGINT into a clean return.

    Uvicorn shuts down gracefully on these signals, then re-raises them; with
    this handler in place the re-raise unwinds our ``with`` blocks (closing the
    embedded Redis, which flushes its AOF) and the process exits 0.
    """
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Text/HTML files, folders, or JSONL.")],
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes analysing articles while this one writes to Redis. "
            "More than the machine's cores (which Redis shares) only adds contention.",
        ),
    ] = 1,
) -> None:
    """Index articles from disk. Re-running on the same input changes nothing."""
    settings = settings_from(data_dir, redis_url, index)
    with open_index(settings) as idx:
        counts = ingest_paths(idx, settings, paths, quiet=quiet, workers=workers)
        console.print(
            f"created {counts['created']}, replaced {counts['replaced']}, "
            f"unchanged {counts['unchanged']}, rejected {counts['rejected']}; "
            f"{idx.count()} articles in the index"
        )
    if counts["rejected"]:
        raise typer.Exit(1)


def match(
    file: Annotated[Path, typer.Argument(help="Article text file ('-' for stdin).")],
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
    limit: Annotated[int, typer.Option(help="Most matches to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
    rewritten: Annotated[
        bool,
        typer.Option(
            "--rewritten",
            help="Also have the sentence aligner judge the first COPYDESK_REWRITE_PAIRS "
            "candidates: a reworded copy the shingles miss comes back syndicated "
            "(~0.1-0.2 s a pair; the model COPYDESK_SEMANTIC picks).",
        ),
    ] = False,
) -> None:
    """Find the indexed articles that rework FILE's copy, ranked, without storing it."""
    import sys

    text = sys.stdin.read() if str(file) == "-" else _read(file)
    settings = settings_from(data_dir, redis_url, index)
    rewrites = RewritePass.asked(settings, rewritten)
    with open_index(settings) as idx:
        try:
            matches = idx.match_text(text, limit=limit, rewrites=rewrites)
        except EmptyText as exc:
            err_console.print(f"[red]error:[/red] {file}: {exc}")
            raise typer.Exit(2) from None
    if as_json:
        console.print_json(json.dumps({"matches": _match_json(matches)}))
    elif matches:
        print_table(_matches_table(f"matches for {file}", matches))
    else:
        console.print(f"no article in the index shares running text with {file}")


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err_console.print(f"[red]error:[/red] cannot read {file} as UTF-8 text: {exc}")
        raise typer.Exit(2) from None


def demo(
    seeds: Annotated[Path, typer.Argument(help="Folder of articles to load.")] = Path("seeds"),
    data_dir: DataDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """Load SEEDS into a fresh embedded index and show what matches what."""
    if not seeds.is_dir():
        err_console.print(
            f"[red]error:[/red] {seeds} is not a folder; run from the project root "
            "or pass the seeds folder"
        )
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="copydesk-demo-") as tmp:
        settings = settings_from(data_dir or Path(tmp), None)
        with open_index(settings) as idx:
            ingest_paths(idx, settings, [seeds], quiet=as_json)
            found = {i: idx.matches_of(i) or [] for i in sorted(idx.ids())}
    if as_json:
        console.print_json(json.dumps({k: _match_json(v) for k, v in found.items()}))
        return
    for article_id, matches in found.items():
        if matches:
            print_table(_matches_table(f"{article_id}", matches))
        else:
            console.print(f"[dim]{article_id}: no match[/dim]")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    for command in (serve, ingest, match, demo):
        app.command()(command)
