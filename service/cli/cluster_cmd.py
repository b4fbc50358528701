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

import numpy as np
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
from service.corpus import BadRecord, count_inputs, read_articles
from service.intake import Rejected, to_article
from service.jobs.batch import EXACT_LIMIT, JobParams, JobStore, execute
from service.settings import Settings
from service.storage.layout import default_id
from shingling import PipelineConfig, Thresholds, analyse
from shingling.families import (
    Cluster,
    ClusterParams,
    ShingleVerifier,
    SignatureVerifier,
    cluster_signatures,
)


class Format(StrEnum):
    json = "json"
    csv = "csv"


class Verify(StrEnum):
    auto = "auto"
    exact = "exact"
    estimate = "estimate"


class Engine(StrEnum):
    local = "local"
    dask = "dask"


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
    params: ClusterParams | None = None,
    quiet: bool = False,
) -> tuple[dict[str, Any], list[Cluster]]:
    """Cluster the articles under ``paths`` in memory (no Redis); origins prefer
    the settings' wire sources (``COPYDESK_WIRE_SOURCES``)."""
    config, thresholds = settings.pipeline(), settings.thresholds()
    params = replace(params or ClusterParams(), wire_sources=settings.wire_source_names())
    ids: list[str] = []
    sigs: list[np.ndarray] = []
    fingerprints: list[np.ndarray] = []
    published: list[float] = []
    sources: list[str | None] = []
    shingles = []
    total = count_inputs(paths)
    mode = verify.value
    if mode == "auto":
        mode = "exact" if total <= EXACT_LIMIT else "estimate"
    seen: set[str] = set()
    with _bar("read", quiet) as progress:
        for i, entry in enumerate(read_articles(paths), 1):
            progress(i / max(total, 1))
            if isinstance(entry, BadRecord):
                err_console.print(f"[yellow]skipped[/yellow] {entry.where}: {entry.message}")
                continue
            try:
                article = to_article(entry.body, max_text_chars=settings.max_text_chars)
            except Rejected as exc:
                err_console.print(f"[yellow]skipped[/yellow] {entry.where}: {exc}")
                continue
            analysis = analyse(article.text, config)
            if analysis.empty:
                err_console.print(f"[yellow]skipped[/yellow] {entry.where}: no words")
                continue
            article_id = article.id or default_id(article.text)
            if article_id in seen:
                err_console.print(
                    f"[yellow]skipped[/yellow] {entry.where}: id {article_id!r} "
                    "already read (ids must be unique)"
                )
                continue
            seen.add(article_id)
            ids.append(article_id)
            sigs.append(analysis.signature)
            fingerprints.append(analysis.fingerprints)
            stamp = article.published_at
            published.append(stamp.timestamp() if stamp is not None else np.nan)
            sources.append(article.source)
            if mode == "exact":
                shingles.append(analysis.shingles)
    matrix = np.stack(sigs) if sigs else np.empty((0, config.num_perm), dtype=np.uint32)
    verifier: ShingleVerifier | SignatureVerifier
    if mode == "exact":
        verifier = ShingleVerifier(lambda rows: [shingles[r] for r in rows], thresholds)
    else:
        verifier = SignatureVerifier(matrix, config, thresholds)
    # Passage pairs go to the same verifier. In estimate mode (more than
    # EXACT_LIMIT files) a signature can rarely vouch for a short passage in a
    # long text, so those links need the exact mode, or the index's job, which
    # verifies passage pairs on the stored shingle sets whatever its mode.
    with _bar("cluster", quiet) as progress:
        result = cluster_signatures(
            matrix,
            ids,
            np.array(published, dtype=float),
            config,
            verifier,
            params=params,
            progress=progress,
            fingerprints=fingerprints,
            sources=sources,
        )
    s = result.stats
    summary = {
        "articles": len(ids),
        "clusters": len(result.clusters),
        "clustered_articles": sum(len(c.members) for c in result.clusters),
        "largest_cluster": max((len(c.members) for c in result.clusters), default=0),
        "verify": mode,
        "candidate_pairs": s.candidate_pairs,
        "verified_pairs": s.verified_pairs,
        "linked_pairs": s.linked_pairs,
        "oversized_buckets": s.oversized_buckets,
        "passage_pairs": s.passage_pairs,
        "stock_fingerprints": s.stock_fingerprints,
        "grey_pairs": getattr(verifier, "grey_pairs", 0),
        "seconds": round(sum(v for k, v in s.timings.items() if k in ("link", "origins")), 3),
    }
    return summary, result.clusters


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
    if corpus and engine is Engine.dask:
        err_console.print("[red]error:[/red] --engine dask clusters the index, not --corpus")
        raise typer.Exit(2)
    if corpus:
        missing = [str(p) for p in corpus if not p.exists()]
        if missing:
            err_console.print(f"[red]error:[/red] no such file or folder: {', '.join(missing)}")
            raise typer.Exit(2)
        summary, found = cluster_corpus(
            corpus, settings, verify, params=ClusterParams(slot_bands=slot_bands), quiet=quiet
        )
        _summary(summary)
        _emit([asdict(c) for c in found], fmt, output)
        return
    with open_index(settings) as idx:
        store = JobStore(idx.client, idx.keys)
        store.sweep()
        active = store.active()
        if active is not None:
            err_console.print(
                f"[red]error:[/red] clustering job {active.job_id} is "
                f"{active.status}; wait for it (GET /clusters/jobs/"
                f"{active.job_id}) and run again"
            )
            raise typer.Exit(1)
        with ExitStack() as stack:
            run = None
            if engine is Engine.dask:  # the workers first: a queued job would wait on them
                from service.jobs.dask_engine import dask_client, run_dask

                dask = stack.enter_context(dask_client(scheduler, workers))
                url = settings.redis_url.get_secret_value() if settings.redis_url else None
                run = partial(run_dask, dask=dask, redis_url=url)
            job_id = store.create(JobParams(verify=verify.value, slot_bands=slot_bands))
            progress = stack.enter_context(_bar("cluster", quiet))
            job = execute(
                idx.client,
                idx.keys,
                idx.config,
                idx.thresholds,
                job_id,
                progress=progress,
                wire_sources=settings.wire_source_names(),
                run=run,
            )
        if job is None or job.status != "done":
            err_console.print(
                f"[red]error:[/red] job {job_id} "
                f"{job.status if job else 'vanished'}: {job.error if job else ''}"
            )
            raise typer.Exit(1)
        _summary(job.summary or {})
        raw = store.result(job_id) or b'{"clusters": []}'
        err_console.print(f"job {job_id} (also at GET /clusters/jobs/{job_id}/result)")
        _emit(json.loads(raw)["clusters"], fmt, output)


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


def eval_pan_clusters(
    root: Annotated[
        Path,
        typer.Argument(
            help="A PAN 2013 text-alignment corpus folder (src/, susp/, 01-..05-).",
            exists=True,
            file_okay=False,
        ),
    ],
    limit: Annotated[int | None, typer.Option(help="At most N pairs per subset.")] = None,
    slot_bands: Annotated[int, typer.Option(min=0, help="Extra one-row LSH bands.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Pair level on PAN: reused pairs in one family (or partial), negatives apart."""
    from service.evaluation.families import evaluate_pan

    try:
        with _bar("pan", quiet) as progress:
            report = evaluate_pan(
                root,
                PipelineConfig(),
                Thresholds(),
                limit=limit,
                params=ClusterParams(slot_bands=slot_bands),
                progress=progress,
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


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command()(cluster)
    eval_app.command("clusters")(eval_clusters)
    eval_app.command("pan-clusters")(eval_pan_clusters)


__all__ = ["cluster", "cluster_corpus", "register", "render"]
