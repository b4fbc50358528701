"""`copydesk eval mrpc PATH` and `copydesk eval pan PATH`: the aligner's quality."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from service.cli.align_cmd import SemanticOpt
from service.cli.common import err_console


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def mrpc(
    path: Annotated[Path, typer.Argument(help="MRPC TSV (msr_paraphrase_train.txt layout).")],
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 10,
    limit: Annotated[int, typer.Option(help="Use only the first N pairs (0 = all).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the fold shuffle.")] = 0,
    lexical_only: Annotated[
        bool, typer.Option("--lexical-only", help="Skip the lexical + semantic model.")
    ] = False,
    semantic: Annotated[
        bool | None,
        typer.Option(
            "--semantic/--lexical",
            help="Only this pair model (unset: both, side by side).",
            show_default=False,
        ),
    ] = None,
    save_model: Annotated[
        Path | None,
        typer.Option(help="Write the lexical + semantic fit on all pairs here (JSON)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Accuracy, F1 and ROC-AUC of the aligner's pair decision under cross-validation:
    the lexical model and the lexical + semantic one, side by side in one run."""
    from service.evaluation import mrpc as ev

    wanted = {False, True} if semantic is None else {semantic}
    if lexical_only:
        wanted.discard(True)
    if not wanted:
        _fail("--lexical-only and --semantic exclude each other")
    started = time.perf_counter()
    try:
        pairs = ev.load(path, limit=limit or None)
        reports, took = _mrpc_reports(pairs, wanted, folds, seed)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    total = time.perf_counter() - started
    if save_model is not None and "lexical + semantic" in reports:
        r = reports["lexical + semantic"]
        data = ev.model_file(r.fitted, str(path), r.pairs, r)
        save_model.write_text(json.dumps(data, indent=1) + "\n")
    if as_json:
        typer.echo(json.dumps({k: asdict(v) for k, v in reports.items()}, indent=2, default=str))
        return
    lines = _mrpc_markdown(reports, took, total, seed)
    if save_model is not None and "lexical + semantic" in reports:
        lines.append(f"Lexical + semantic fit on all pairs written to {save_model}")
    typer.echo("\n".join(lines))


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _check_fold(fold: str) -> None:
    if fold not in ("all", "even", "odd"):
        _fail(f"--fold is all, even or odd, not {fold!r}")


def _mrpc_reports(
    pairs: list[Any], wanted: set[bool], folds: int, seed: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """The cross-validated report of each wanted model (False: lexical, True:
    lexical + semantic), and the seconds its features took."""
    from service.evaluation import mrpc as ev

    reports, took = {}, {}
    for name, semantic in (("lexical", False), ("lexical + semantic", True)):
        if semantic not in wanted:
            continue
        t = time.perf_counter()
        x = ev.features(pairs, semantic)
        took[name + " features"] = time.perf_counter() - t
        reports[name] = ev.evaluate(pairs, folds=folds, seed=seed, semantic=semantic, x=x)
    return reports, took


def _mrpc_markdown(
    reports: dict[str, Any], took: dict[str, float], total: float, seed: int
) -> list[str]:
    """The MRPC reports as the Markdown pasted into docs/quality.md."""
    any_report = next(iter(reports.values()))
    lines = [
        f"MRPC: {any_report.pairs} pairs ({any_report.positives} paraphrases), "
        f"{any_report.folds}-fold stratified CV, seed {seed}; {total:.0f} s on {_machine()}, "
        f"{datetime.now(UTC):%Y-%m-%d}; features: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()),
        "",
        "| model | accuracy (held-out folds) | F1 | ROC-AUC | shipped, all pairs (in-sample) |",
        "|---|---|---|---|---|",
    ]
    for name, r in reports.items():
        lines.append(
            f"| {name} | {r.cv.accuracy:.3f} (fold mean {r.fold_accuracy[0]:.3f} "
            f"± {r.fold_accuracy[1]:.3f}) | {r.cv.f1:.3f} | {r.cv.roc_auc:.3f} "
            f"| {r.shipped.accuracy:.3f} |"
        )
    lines += [f"| unigram Jaccard baseline | | | {any_report.baseline_auc:.3f} | |", ""]
    for name, r in reports.items():
        lines.append(
            f"{name}: C per held-out fold (inner CV on its nine training folds) "
            f"{', '.join(f'{c:g}' for c in r.fold_c)}; on all pairs {r.fitted_c:g}"
        )
    lines.append("")
    if "lexical" in reports:
        f = reports["lexical"].fitted
        lines += [
            "Lexical fit on all pairs (to ship it, put it in shingling/data/lexical_model.json):",
            f"    weights={f.weights}",
            f"    bias={f.bias}, threshold={f.threshold}",
        ]
    return lines


def pan(
    path: Annotated[Path, typer.Argument(help="The pan13_train folder (PAN 2013 layout).")],
    limit: Annotated[int, typer.Option(help="Annotated pairs per subset (0 = all).")] = 50,
    sample: Annotated[
        bool, typer.Option("--sample/--first", help="A seeded random sample, or the first N.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    subset: Annotated[
        list[str] | None, typer.Option(help="Only these subset folders (repeatable).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Pair model: lexical, semantic (lexical + static embeddings, "
            "shingling/data/pair_model.json), or both, side by side. Unset: "
            "--semantic/--lexical, else COPYDESK_SEMANTIC (default semantic).",
            show_default=False,
        ),
    ] = None,
    semantic: SemanticOpt = None,
    fold: Annotated[
        str,
        typer.Option(
            help="Pairs whose suspicious document number is even, odd, or all "
            "(a half held out from anything chosen on the other)."
        ),
    ] = "all",
    context: Annotated[
        bool,
        typer.Option(
            "--context/--no-context",
            help="Take in sentences inside and beside a reused passage that resemble "
            "it (as shipped), or judge every sentence pair alone, to compare.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Sentence labels per obfuscation type and PAN character measures of the aligner."""
    from service.evaluation import pan as ev

    names = _pan_models(model, semantic)
    _check_fold(fold)
    try:
        everything = ev.load(path, tuple(subset) if subset else ev.SUBSETS)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    chosen = [p for p in ev.select(everything, limit or None, sample, seed) if ev.in_fold(p, fold)]
    skipped = sum(not p.annotated for p in everything)
    reports, took = {}, {}
    for name in names:
        t = time.perf_counter()
        reports[name] = _pan_report(chosen, name, max(1, workers), skipped, context)
        took[name] = time.perf_counter() - t
    if as_json:
        typer.echo(json.dumps({k: asdict(v) for k, v in reports.items()}, indent=2, default=str))
        return
    for name, report in reports.items():
        typer.echo(f"### Pair model: {name}\n")
        typer.echo(markdown(report, took[name], limit, sample, seed, fold) + "\n")


def _pan_models(model: str | None, semantic: bool | None) -> tuple[str, ...]:
    """The pair models ``--model`` (else ``--semantic``, else the settings) names."""
    from service.settings import get_settings

    models = {"lexical": ("lexical",), "semantic": ("semantic",), "both": ("lexical", "semantic")}
    if model is None:
        on = get_settings().semantic if semantic is None else semantic
        model = "semantic" if on else "lexical"
    if model not in models:
        _fail(f"--model is lexical, semantic or both, not {model!r}")
    return models[model]


def _pan_report(
    chosen: list[Any], name: str, workers: int, skipped: int, context: bool = True
) -> Any:
    """The PAN report of pair model ``name`` on ``chosen``, with a progress bar."""
    from rich.progress import Progress

    from service.evaluation import pan as ev
    from shingling.align import params_for

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task(f"aligning PAN pairs ({name})", total=len(chosen))
        return ev.evaluate(
            chosen,
            _with_context(params_for(name == "semantic"), context),
            workers=workers,
            progress=lambda n: bar.advance(task, n),
            skipped=skipped,
        )


def _with_context(params: Any, on: bool) -> Any:
    """``params`` as shipped, or with the aligner's context pass off."""
    return params if on else replace(params, context_threshold=0.0, context_edge=0.0)


def markdown(report, took: float, limit: int, sample: bool, seed: int, fold: str = "all") -> str:  # type: ignore[no-untyped-def]
    """The PAN report as Markdown tables (as pasted into docs/quality.md)."""
    how = (
        f"{'a seeded sample (seed ' + str(seed) + ')' if sample else 'the first'} "
        f"{limit} annotated pairs per subset"
        if limit
        else "all annotated pairs"
    )
    if fold != "all":
        how += f", those whose suspicious document number is {fold}"
    out = [
        f"PAN 2013 train: {report.pairs} pairs ({how}; {report.skipped} unannotated summary "
        f"pairs skipped); {took:.0f} s on {_machine()}, {datetime.now(UTC):%Y-%m-%d}",
        "",
    ]
    return "\n".join(out + _label_rows(report) + _char_rows(report) + _rewritten_rows(report))


def _label_rows(report: Any) -> list[str]:
    """Sentence labels per gold obfuscation class, and the rate of the one it should get."""
    from service.evaluation.pan import CLASSES

    want = {"none": "copied", "outside": "added"}
    out = [
        "| gold class | sentences | copied | paraphrased | added | target label rate |",
        "|---|---|---|---|---|---|",
    ]
    for g in CLASSES:
        row = report.confusion.get(g)
        if not row:
            continue
        total = sum(row.values())
        target = want.get(g, "copied+paraphrased")
        rate = report.rate(g, *target.split("+"))
        out.append(
            f"| {g} | {total} | {report.rate(g, 'copied'):.3f} | "
            f"{report.rate(g, 'paraphrased'):.3f} | {report.rate(g, 'added'):.3f} | "
            f"{target}: **{rate:.3f}** |"
        )
    return out


def _char_rows(report: Any) -> list[str]:
    """PAN's character measures per subset and overall."""
    out = [
        "",
        "| subset | pairs flagged (>= 1 reused sentence) | char precision | char recall "
        "| granularity | plagdet |",
        "|---|---|---|---|---|---|",
    ]
    for name, (flagged, total) in report.pair_flags.items():
        m = report.chars[name]
        out.append(
            f"| {name} | {flagged}/{total} | {m.precision:.3f} | {m.recall:.3f} | "
            f"{m.granularity:.3f} | {m.plagdet:.3f} |"
        )
    m = report.overall
    out.append(
        f"| all | | {m.precision:.3f} | {m.recall:.3f} | {m.granularity:.3f} | {m.plagdet:.3f} |"
    )
    return out


def _rewritten_rows(report: Any) -> list[str]:
    """How many pairs of each subset are a copy, by rewrite degree."""
    out = [
        "",
        "| subset | pairs | a copy (rewritten set) | verbatim | light | heavy |",
        "|---|---|---|---|---|---|",
    ]
    for name, degrees in report.rewritten.items():
        total = sum(degrees.values())
        copies = total - degrees.get("none", 0)
        out.append(
            f"| {name} | {total} | {copies} ({copies / total:.2f}) | "
            + " | ".join(str(degrees.get(d, 0)) for d in ("verbatim", "light", "heavy"))
            + " |"
        )
    return out


def retrieval(
    path: Annotated[Path, typer.Argument(help="A PAN 2013-layout folder (src/, susp/, 0N-*/).")],
    fold: Annotated[
        str, typer.Option(help="Pairs whose suspicious document number is even, odd, or all.")
    ] = "all",
    bands_only: Annotated[
        bool,
        typer.Option(
            "--bands-only", help="LSH bands alone: the index built with COPYDESK_WINNOW=0."
        ),
    ] = False,
    limit: Annotated[int, typer.Option(help="Matches asked for per query.")] = 50,
    rewritten: Annotated[
        bool,
        typer.Option(
            "--rewritten",
            help="Query as rewritten=true does: the sentence aligner also judges the "
            "first --rewrite-pairs candidates of each query.",
        ),
    ] = False,
    semantic: SemanticOpt = None,
    rewrite_pairs: Annotated[
        int | None,
        typer.Option(
            min=1, max=50, help="With --rewritten: pairs judged a query (COPYDESK_REWRITE_PAIRS)."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the throw-away index here (default: a temp dir).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Index the sources, query with each suspicious document: recall per subset and
    per coverage bucket, and false positives on 01-no-plagiarism."""
    import tempfile

    from service.cli.common import settings_from
    from service.evaluation import retrieval as ev

    _check_fold(fold)
    try:
        pairs = ev.pairs_of(path, fold)  # type: ignore[arg-type]
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    sources = sorted((path / "src").glob("*.txt"))
    with tempfile.TemporaryDirectory(prefix="copydesk-retrieval-") as tmp:
        settings = settings_from(data_dir or Path(tmp), None, "retrieval")
        if bands_only:
            settings = settings.model_copy(update={"winnow": 0})
        rewrites = _rewrite_pass(settings, semantic, rewrite_pairs) if rewritten else None
        report = _retrieval_run(settings, sources, pairs, fold, limit, rewrites)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    typer.echo(f"{ev.markdown(report)}\nOn {_machine()}, {datetime.now(UTC):%Y-%m-%d}.")


def _retrieval_run(
    settings: Any, sources: list[Path], pairs: Any, fold: str, limit: int, rewrites: Any
) -> Any:
    """Index ``sources`` into an empty index, post each suspicious text of
    ``pairs`` (those of ``fold``): the report, with its timings."""
    from rich.progress import Progress

    from service.cli.common import open_index
    from service.evaluation import retrieval as ev

    timings: dict[str, float] = {}
    with open_index(settings) as idx, Progress(console=err_console, transient=True) as bar:
        if idx.count():
            err_console.print(
                f"[red]error:[/red] index 'retrieval' in {settings.data_dir} already holds "
                f"{idx.count()} articles; pass an empty --data-dir"
            )
            raise typer.Exit(2)
        t = time.perf_counter()
        task = bar.add_task("indexing sources", total=len(sources))
        n = ev.index_sources(idx, sources, lambda k: bar.advance(task, k))
        timings["index"] = time.perf_counter() - t
        t = time.perf_counter()
        task = bar.add_task("querying", total=len({p.susp for p in pairs}))
        subsets, coverage, queries = ev.evaluate(
            idx, pairs, limit=limit, rewrites=rewrites, progress=lambda k: bar.advance(task, k)
        )
        timings["queries"] = time.perf_counter() - t
    passages = settings.pipeline().passages and settings.max_passage_candidates > 0
    return ev.Report(
        n, queries, fold, passages, subsets, coverage, timings,
        rewritten=rewrites.model if rewrites else None,
    )  # fmt: skip


def _rewrite_pass(settings: Any, semantic: bool | None, pairs: int | None) -> Any:
    """The ``rewritten=true`` pass a service with ``settings`` would run, with
    the pair model and pair count the options override."""
    from service.storage.query import RewritePass

    update: dict[str, object] = {}
    if semantic is not None:
        update["semantic"] = semantic
    if pairs is not None:
        update["rewrite_pairs"] = pairs
    return RewritePass.from_settings(settings.model_copy(update=update))


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    eval_app.command("mrpc")(mrpc)
    eval_app.command("pan")(pan)
    eval_app.command("retrieval")(retrieval)
