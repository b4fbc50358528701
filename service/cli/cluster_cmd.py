"""``copydesk cluster`` (over the index or straight over files) and the
clustering evaluations ``copydesk eval clusters`` / ``eval pan-clusters``."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, replace
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
)
from service.corpus import count_inputs
from service.jobs.batch import execute
from service.jobs.run import EXACT_LIMIT, verify_mode
from service.jobs.run import cluster as run_cluster
from service.jobs.sources import read_corpus
from service.jobs.store import JobParams, JobStore
from service.settings import Settings
from shingling import PipelineConfig, Thresholds
from shingling.align import AlignParams, params_for
from shingling.families import Cluster, ClusterParams


class Format(StrEnum):
    json = "json"
    csv = "csv"


class Verify(StrEnum):
    auto = "auto"
    exact = "exact"
    estimate = "estimate"


class Rewritten(StrEnum):
    off = "off"
    lexical = "lexical"
    semantic = "semantic"


class Engine(StrEnum):
    local = "local"
    dask = "dask"


PanRoot = Annotated[
    Path,
    typer.Argument(
        help="A PAN 2013 text-alignment corpus folder (src/, susp/, 01-..05-).",
        exists=True,
        file_okay=False,
    ),
]
FoldOpt = Annotated[str, typer.Option(help="all, or even / odd suspicious-document numbers only.")]
RewriteModelOpt = Annotated[
    Rewritten,
    typer.Option(help="Also link pairs the aligner finds rewritten copies, with this model."),
]
RewrittenOpt = Annotated[
    bool,
    typer.Option(
        help="Also link pairs the sentence aligner finds rewritten copies (30 % of "
        "the shorter one's sentences reused; COPYDESK_SEMANTIC picks the pair model). "
        "Exact verification only; slower."
    ),
]


@contextmanager
def _bar(label: str, quiet: bool) -> Iterator[Callable[[float], None]]:
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, disable=quiet) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda f: bar.update(task, completed=f)


def render(clusters: list[dict[str, Any]], fmt: Format) -> str:
    """Clusters as the API's JSON result or as CSV rows
    ``cluster_id,origin,id,origin_reason``."""
    if fmt is Format.json:
        return json.dumps({"clusters": clusters}, ensure_ascii=False, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["cluster_id", "origin", "id", "origin_reason"])
    for c in clusters:
        why = c.get("origin_reason", "")
        writer.writerows([c["cluster_id"], c["origin"], m, why] for m in c["members"])
    return out.getvalue()


def families_table(clusters: list[dict[str, Any]]) -> Table:
    """Each family: its id, origin, size and why that origin."""
    table = Table(title="families", title_justify="left")
    id_column(table, "cluster_id", [c["cluster_id"] for c in clusters])
    id_column(table, "origin", [c["origin"] for c in clusters], style="bold")
    table.add_column("members", justify="right", no_wrap=True)
    table.add_column("why this origin")
    for c in clusters:
        table.add_row(
            c["cluster_id"], c["origin"], str(len(c["members"])), c.get("origin_reason", "")
        )
    return table


def _emit(clusters: list[dict[str, Any]], fmt: Format, output: Path | None) -> None:
    if clusters:
        print_table(families_table(clusters), err_console)
    text = render(clusters, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {len(clusters)} clusters to {output}")


def _summary(summary: dict[str, Any]) -> None:
    table = Table(title="clustering", title_justify="left", show_header=False)
    for key in (
        "articles",
        "clusters",
        "clustered_articles",
        "largest_cluster",
        "verify",
        "candidate_pairs",
        "verified_pairs",
        "grey_pairs",
        "oversized_buckets",
        "seconds",
    ):
        if key in summary:
            table.add_row(key, str(summary[key]))
    print_table(table, err_console)


def cluster_corpus(
    paths: list[Path],
    settings: Settings,
    verify: Verify,
    *,
    params: JobParams | None = None,
    quiet: bool = False,
) -> tuple[dict[str, Any], list[Cluster]]:
    """Cluster the articles under ``paths`` in memory (no Redis); origins prefer
    the settings' wire sources (``COPYDESK_WIRE_SOURCES``)."""
    config = settings.pipeline()
    # Chosen before reading: the shingle sets are kept for exact verification only.
    total = count_inputs(paths)
    mode = verify_mode(verify.value, total)

    def skipped(where: str, why: str) -> None:
        err_console.print(f"[yellow]skipped[/yellow] {where}: {why}")

    with _bar("read", quiet) as progress:
        corpus = read_corpus(
            paths,
            config,
            max_text_chars=settings.max_text_chars,
            keep_shingles=mode == "exact",
            keep_texts=(params or JobParams()).rewritten,
            total=total,
            skipped=skipped,
            progress=progress,
        )
    # Passage pairs go to the same verifier. In estimate mode (more than
    # EXACT_LIMIT files) a signature can rarely vouch for a short passage in a
    # long text, so those links need the exact mode, or the index's job, which
    # verifies passage pairs on the stored shingle sets whatever its mode.
    with _bar("cluster", quiet) as progress:
        return run_cluster(
            corpus,
            config,
            settings.thresholds(),
            replace(params or JobParams(), verify=mode),
            progress,
            wire_sources=settings.wire_source_names(),
        )


def cluster(
    corpus: Annotated[
        list[Path] | None,
        typer.Option(
            "--corpus", help="Cluster these files/folders/JSONL directly (no Redis). Repeatable."
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    verify: Annotated[
        Verify,
        typer.Option(
            help="exact: re-shingle texts; estimate: signatures only; "
            f"auto: exact up to {EXACT_LIMIT:,} articles."
        ),
    ] = Verify.auto,
    slot_bands: Annotated[
        int,
        typer.Option(
            min=0,
            help="Extra one-row LSH bands: find short texts reused in long "
            "ones (more candidates, slower).",
        ),
    ] = 0,
    rewritten: RewrittenOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: in this process; dask: on a Dask cluster, the same result "
            "(docs/clustering.md). Over the index only."
        ),
    ] = Engine.local,
    workers: Annotated[int, typer.Option(min=1, help="--engine dask: local worker processes.")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="--engine dask: a running scheduler (tcp://HOST:PORT), not local."),
    ] = None,
    data_dir: DataDirOpt = None,
    redis_url: RedisUrlOpt = None,
    index: IndexOpt = None,
) -> None:
    """Find syndication families (clusters with an origin) over the index or files."""
    settings = settings_from(data_dir, redis_url, index)
    params = JobParams(
        verify=verify.value, slot_bands=slot_bands, rewritten=rewritten, semantic=settings.semantic
    )
    _check_cluster_options(corpus, engine, verify, rewritten)
    if corpus:
        summary, found = cluster_corpus(corpus, settings, verify, params=params, quiet=quiet)
        _summary(summary)
        _emit([asdict(c) for c in found], fmt, output)
        return
    dask = (workers, scheduler) if engine is Engine.dask else None
    _emit(_cluster_index(settings, params, dask=dask, quiet=quiet), fmt, output)


def _check_cluster_options(
    corpus: list[Path] | None, engine: Engine, verify: Verify, rewritten: bool
) -> None:
    """Exit 2, saying what to change, on options that do not go together."""
    if corpus and engine is Engine.dask:
        err_console.print("[red]error:[/red] --engine dask clusters the index, not --corpus")
        raise typer.Exit(2)
    if rewritten and (engine is Engine.dask or verify is Verify.estimate):
        err_console.print(
            "[red]error:[/red] --rewritten runs in this process with exact verification: "
            "leave out --engine dask and --verify estimate"
        )
        raise typer.Exit(2)
    missing = [str(p) for p in corpus or [] if not p.exists()]
    if missing:
        err_console.print(f"[red]error:[/red] no such file or folder: {', '.join(missing)}")
        raise typer.Exit(2)


def _cluster_index(
    settings: Settings, params: JobParams, *, dask: tuple[int, str | None] | None, quiet: bool
) -> list[dict[str, Any]]:
    """A recorded job over the index, run here (on Dask when ``dask`` gives
    its local workers and scheduler); its clusters."""
    with open_index(settings) as idx:
        store = JobStore(idx.client, idx.keys)
        store.sweep()
        with ExitStack() as stack:
            run = None
            if dask is not None:  # the workers first: a queued job would wait on them
                from service.jobs.dask_engine import dask_client, run_dask

                client = stack.enter_context(dask_client(dask[1], dask[0]))
                url = settings.redis_url.get_secret_value() if settings.redis_url else None
                run = partial(run_dask, dask=client, redis_url=url)
            job, created = store.create_unless_active(params)
            if not created:
                err_console.print(
                    f"[red]error:[/red] clustering job {job.job_id} is "
                    f"{job.status}; wait for it (GET /clusters/jobs/"
                    f"{job.job_id}) and run again"
                )
                raise typer.Exit(1)
            progress = stack.enter_context(_bar("cluster", quiet))
            done = execute(
                idx.client,
                idx.keys,
                idx.config,
                idx.thresholds,
                job.job_id,
                progress=progress,
                wire_sources=settings.wire_source_names(),
                run=run,
            )
        if done is None or done.status != "done":
            err_console.print(
                f"[red]error:[/red] job {job.job_id} "
                f"{done.status if done else 'vanished'}: {done.error if done else ''}"
            )
            raise typer.Exit(1)
        _summary(done.summary or {})
        raw = store.result(job.job_id) or b'{"clusters": []}'
        err_console.print(f"job {job.job_id} (also at GET /clusters/jobs/{job.job_id}/result)")
        clusters: list[dict[str, Any]] = json.loads(raw)["clusters"]
        return clusters


def eval_clusters(
    pred: Annotated[
        Path,
        typer.Argument(
            help="Clusters: `copydesk cluster` JSON/CSV output.", exists=True, dir_okay=False
        ),
    ],
    truth: Annotated[
        Path,
        typer.Argument(
            help="Truth: {'families': [...]} (bench.synth's "
            "truth.json) or the same cluster format.",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """ARI and pairwise precision/recall/F1 of predicted clusters against true families."""
    from service.evaluation.families import compare_clusterings, load_clusters

    try:
        scores = compare_clusterings(load_clusters(pred), load_clusters(truth))
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title="clusters vs truth", title_justify="left", show_header=False)
    for k, v in scores.items():
        table.add_row(k, f"{v:.4f}" if k in ("ari", "precision", "recall", "f1") else f"{v:.0f}")
    print_table(table, err_console)
    console.print_json(json.dumps(scores))


def _rewrite_model(fold: str, rewritten: Rewritten) -> AlignParams | None:
    """The pair model of ``--rewritten`` (None: off), once ``--fold`` is checked."""
    if fold not in ("all", "even", "odd"):
        err_console.print(f"[red]error:[/red] --fold must be all, even or odd, not {fold!r}")
        raise typer.Exit(2)
    return None if rewritten is Rewritten.off else params_for(rewritten is Rewritten.semantic)


def eval_pan_clusters(
    root: PanRoot,
    limit: Annotated[int | None, typer.Option(help="At most N pairs per subset.")] = None,
    slot_bands: Annotated[int, typer.Option(min=0, help="Extra one-row LSH bands.")] = 0,
    only: Annotated[
        list[str] | None,
        typer.Option("--subset", help="Only these subset folders (repeatable)."),
    ] = None,
    fold: FoldOpt = "all",
    rewritten: RewriteModelOpt = Rewritten.off,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Pair level on PAN: reused pairs in one family (or partial), negatives apart."""
    from service.evaluation.families import evaluate_pan

    align = _rewrite_model(fold, rewritten)
    try:
        with _bar("pan", quiet) as progress:
            report = evaluate_pan(
                root,
                PipelineConfig(),
                Thresholds(),
                subsets=only,
                limit=limit,
                params=ClusterParams(slot_bands=slot_bands),
                progress=progress,
                fold=fold,
                rewritten=align,
            )
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    data = report.to_dict()
    table = Table(
        title=f"PAN pairs ({data['documents']} documents, {data['clusters']} clusters)",
        title_justify="left",
    )
    for col in ("subset", "pairs", "together", "partial", "missed", "apart", "flagged"):
        table.add_column(col)
    subsets: dict[str, dict[str, Any]] = data["subsets"]  # type: ignore[assignment]
    for subset, row in subsets.items():
        table.add_row(
            subset,
            *(str(row[k]) for k in ("pairs", "together", "partial", "missed", "apart")),
            f"{row['flagged_rate']:.1%}",
        )
    print_table(table, err_console)
    console.print_json(json.dumps(data))


def eval_graded(
    root: PanRoot,
    limit: Annotated[int | None, typer.Option(help="At most N families per subset.")] = None,
    fold: FoldOpt = "all",
    rewritten: RewriteModelOpt = Rewritten.off,
) -> None:
    """Graded reuse from PAN cases: a source passage and its copy (verbatim,
    machine-rewritten, summarised) are one family, independent texts none;
    ARI of the batch job's clusters, and how many families it kept together."""
    from service.evaluation.graded import evaluate_graded, graded_items

    align = _rewrite_model(fold, rewritten)
    try:
        items = graded_items(root, fold=fold, limit=limit)
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    report = evaluate_graded(items, PipelineConfig(), Thresholds(), rewritten=align)
    table = Table(title=f"graded reuse ({report.items} texts, {report.families} families)")
    for col in ("subset", "families / texts", "kept together / linked"):
        table.add_column(col)
    for subset, c in sorted(report.together.items()):
        if "families" in c:
            table.add_row(subset, str(c["families"]), str(c["together"]))
        else:
            table.add_row(subset, str(c["texts"]), str(c["linked"]))
    table.add_row("ARI", f"{report.scores['ari']:.3f}", "")
    print_table(table, err_console)
    console.print_json(json.dumps(report.to_dict()))


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command()(cluster)
    eval_app.command("clusters")(eval_clusters)
    eval_app.command("pan-clusters")(eval_pan_clusters)
    eval_app.command("graded")(eval_graded)


__all__ = ["cluster", "cluster_corpus", "register", "render"]
