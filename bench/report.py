"""The Markdown table of one run: copydesk, the baseline, their ratio, the target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Figures = dict[str, Any]


def _get(result: Figures, path: str) -> float | None:
    node: Any = result
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node)


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.3g}{unit}"


def _at_least(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and a >= b


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


Row = tuple[str, str, str, str, str, str]
_RowAdder = Callable[..., None]


class _Rows(list[Row]):
    """Rows of the table, each added with its raw figures and formatted here."""

    def add(
        self,
        name: str,
        ours: float | None,
        base: float | None,
        ratio: float | None,
        target: str,
        met: bool | None,
        unit: str = "",
    ) -> None:
        ok = met if ours is not None else None
        self.append(
            (
                name,
                _fmt(ours, unit),
                _fmt(base, unit),
                _fmt(ratio, "x"),
                target,
                "-" if ok is None else ("yes" if ok else "**no**"),
            )
        )


def rows(r: Figures) -> list[Row]:
    """(figure, copydesk, baseline, ratio, target, met) rows."""
    out = _Rows()
    for section in (_signature_rows, _ingest_rows, _query_rows, _store_rows):
        section(r, out.add)
    return list(out)


def _signature_rows(r: Figures, row: _RowAdder) -> None:
    """Signatures per second against datasketch and the hashing floor."""
    g = _get
    sig, floor = g(r, "signatures.copydesk_per_s"), g(r, "signatures.floor_per_s")
    upd, batch = (
        g(r, "signatures.datasketch_update_per_s"),
        g(r, "signatures.datasketch_update_batch_per_s"),
    )
    # Ratios are medians of per-round ratios (interleaved rounds), not of the rates.
    r_upd = g(r, "signatures.copydesk_over_datasketch_update") or _ratio(sig, upd)
    r_batch = g(r, "signatures.copydesk_over_datasketch_update_batch") or _ratio(sig, batch)
    r_floor = g(r, "signatures.copydesk_over_floor") or _ratio(sig, floor)
    row(
        "signatures/s vs datasketch `update`",
        sig,
        upd,
        r_upd,
        ">= 10x",
        _at_least(r_upd, 10),
    )
    row("signatures/s vs datasketch `update_batch`", sig, batch, r_batch, "-", None)
    row(
        "signatures/s vs pure-Python hashing floor",
        sig,
        floor,
        r_floor,
        ">= 0.7x",
        _at_least(r_floor, 0.7),
    )


def _ingest_rows(r: Figures, row: _RowAdder) -> None:
    """Ingest rates and CPU, in one process, in several and over HTTP."""
    g = _get
    ing, ds_ing = g(r, "ingest.per_s"), g(r, "datasketch.per_s")
    row(
        "ingest articles/s (library, one process)"
        if (g(r, "ingest.workers") or 1) == 1
        else f"ingest articles/s (library, {int(g(r, 'ingest.workers') or 0)} analysis processes)",
        ing,
        ds_ing,
        _ratio(ing, ds_ing),
        ">= 2,000/s and >= 5x",
        _at_least(ing, 2000) and _at_least(_ratio(ing, ds_ing), 5),
    )
    row(
        "ingest CPU ms/article: client (analysis, packing, sending)",
        g(r, "ingest.client_cpu_ms_per_article"),
        None,
        None,
        "-",
        None,
    )
    row(
        "ingest CPU ms/article: Redis (put.lua)",
        g(r, "ingest.redis_script_ms_per_article"),
        None,
        None,
        "-",
        None,
    )
    par = g(r, "parallel.per_s")
    workers = g(r, "parallel.workers")
    row(
        f"ingest articles/s (library, {int(workers or 0) or 'N'} analysis processes)",
        par,
        ds_ing,
        _ratio(par, ds_ing),
        ">= 5x",
        _at_least(_ratio(par, ds_ing), 5),
    )
    http = g(r, "http.per_s")
    row("ingest articles/s (HTTP, POST /articles)", http, None, None, "-", None)
    row(
        "HTTP CPU ms/request: server (POST /articles, with its matches)",
        g(r, "http.server_cpu_ms_per_request"),
        None,
        None,
        "-",
        None,
    )
    row(
        "HTTP CPU ms/request: load client (same machine)",
        g(r, "http.client_cpu_ms_per_request"),
        None,
        None,
        "-",
        None,
    )


def _query_rows(r: Figures, row: _RowAdder) -> None:
    """Query latencies, their parts, and the CPU around them."""
    g = _get
    p50, p99 = g(r, "query.total_p50_ms"), g(r, "query.total_p99_ms")
    lp50, lp99 = g(r, "query.lookup_p50_ms"), g(r, "query.lookup_p99_ms")
    dp50, dp99 = g(r, "datasketch.lookup_p50_ms"), g(r, "datasketch.lookup_p99_ms")
    row("query p50 ms (analyse+lookup+verify+rank)", p50, dp50, _ratio(dp50, p50), "-", None)
    row(
        "query p99 ms (analyse+lookup+verify+rank)",
        p99,
        dp99,
        _ratio(dp99, p99),
        "<= 5 ms, >= 5x",
        _at_least(5, p99) and _at_least(_ratio(dp99, p99), 5),
    )
    row("query part p50 ms: analyse the text", g(r, "query.analyse_p50_ms"), None, None, "-", None)
    row(
        "query part p50 ms: script (top candidates and their stored sets)",
        g(r, "query.fetch_p50_ms"),
        None,
        None,
        "-",
        None,
    )
    for part, name in (
        ("redis_background", "Redis background threads"),
        ("other_processes", "other processes"),
        ("hypervisor_steal", "other guests of the host (steal)"),
    ):
        row(
            f"while the queries were timed, CPU busy in {name} (cores)",
            g(r, f"query.busy_{part}_cores"),
            None,
            None,
            "-",
            None,
        )
    row("LSH lookup p50 ms (candidates only)", lp50, dp50, _ratio(dp50, lp50), "-", None)
    row("LSH lookup p99 ms (candidates only)", lp99, dp99, _ratio(dp99, lp99), "-", None)


def _store_rows(r: Figures, row: _RowAdder) -> None:
    """Memory per article, recall, false positives and retention."""
    g = _get
    mem, ds_mem = g(r, "ingest.index_bytes"), g(r, "datasketch.used_memory_per_article")
    row(
        "index bytes/article (sig+LSH+ids+bytime)",
        mem,
        ds_mem,
        _ratio(ds_mem, mem),
        "<= 1,536",
        _at_least(1536, mem),
    )
    row(
        "stored document bytes/article (text, metadata)",
        g(r, "ingest.document_bytes"),
        None,
        None,
        "reported",
        None,
    )
    rec = g(r, "query.recall")
    row(
        "recall of true syndicated pairs",
        rec,
        None,
        None,
        ">= 0.95",
        _at_least(rec, 0.95),
    )
    row(
        "false positives per query (dup./synd. verdicts)",
        g(r, "query.false_positives_per_query"),
        None,
        None,
        "-",
        None,
    )
    growth = g(r, "retention.memory_growth_after_window")
    row(
        "retention: memory growth once the window is full",
        growth,
        None,
        None,
        "flat",
        growth is not None and abs(growth) < 0.1,
    )


def passage_rows(r: Figures) -> list[tuple[str, str, str, str, str, str]]:
    """(figure, with passages, bands only, ratio, target, met): what passage
    fingerprints cost against the index without them."""
    g = _get

    def row(
        name: str, ours: float | None, base: float | None, target: str, met: bool | None
    ) -> tuple[str, str, str, str, str, str]:
        ok = "-" if met is None or ours is None else ("yes" if met else "**no**")
        return (name, _fmt(ours), _fmt(base), _fmt(_ratio(ours, base), "x"), target, ok)

    ing, base_ing = g(r, "ingest.per_s"), g(r, "bands_only_ingest.per_s")
    p99, base_p99 = g(r, "query.total_p99_ms"), g(r, "bands_only_query.total_p99_ms")
    p50, base_p50 = g(r, "query.total_p50_ms"), g(r, "bands_only_query.total_p50_ms")
    mem = g(r, "ingest.index_bytes_with_fingerprints")
    rec, base_rec = g(r, "query.recall"), g(r, "bands_only_query.recall")
    fps, base_fps = (
        g(r, "query.false_positives_per_query"),
        g(r, "bands_only_query.false_positives_per_query"),
    )
    return [
        row("ingest articles/s", ing, base_ing, ">= 0.7x", _at_least(_ratio(ing, base_ing), 0.7)),
        row(
            "ingest CPU ms/article: Redis (put.lua)",
            g(r, "ingest.redis_script_ms_per_article"),
            g(r, "bands_only_ingest.redis_script_ms_per_article"),
            "-",
            None,
        ),
        row("query p50 ms", p50, base_p50, "-", None),
        row("query p99 ms", p99, base_p99, "<= 2x", _at_least(2, _ratio(p99, base_p99))),
        row(
            "index bytes/article (with fingerprints)",
            mem,
            g(r, "bands_only_ingest.index_bytes"),
            "<= 4,096",
            _at_least(4096, mem),
        ),
        row("fingerprint bytes/article", g(r, "ingest.fingerprint_bytes"), None, "-", None),
        row("recall of true syndicated pairs", rec, base_rec, "-", None),
        row("false positives per query (dup./synd.)", fps, base_fps, "-", None),
    ]


def markdown(r: Figures) -> str:
    m = r.get("machine", {})
    lines = [
        f"### {r['size']:,} articles (seed {r['seed']}, material `{r['material']}`)",
        "",
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores (load {m.get('load_average_1m')}), "
        f"Python {m.get('python')}, numpy {m.get('numpy')}, datasketch {m.get('datasketch')}, "
        f"Redis {m.get('redis')}.",
        "",
        f"Machine speed at the start: the pure-Python floor ran at {_fmt(m.get('floor_per_s'))} "
        "articles/s (the issue's reference machine: about 2,400); absolute figures scale with it.",
        "",
        "| figure | copydesk | datasketch | ratio | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows(r)]
    if r.get("bands_only_ingest"):
        lines += [
            "",
            "Passage fingerprints (winnowing window "
            f"{r.get('winnow', 8)}, {r.get('max_located', 10)} matches located a reply) against "
            "the path before them (`BandsOnly`: LSH bands",
            "alone, `COPYDESK_WINNOW=0 COPYDESK_MAX_LOCATED=0`), same corpus, same run:",
            "",
            "| figure | with passages | bands only | ratio | target | met |",
            "|---|---:|---:|---:|---|---|",
        ]
        lines += [f"| {' | '.join(row)} |" for row in passage_rows(r)]
    notes = []
    for name in ("ingest", "parallel", "datasketch"):
        part = r.get(name) or {}
        if part and not part.get("complete", True):
            notes.append(f"{name} stopped at its time budget after {part['articles']:,} articles.")
    if r.get("restored"):
        notes.append(
            f"queries on the index saved in `{r['restored']['path']}` "
            f"({r['restored']['articles']:,} articles), restored into a fresh redis-server."
        )
    if ds := r.get("datasketch"):
        notes.append(f"datasketch baseline measured at {ds['articles']:,} articles.")
        if ds.get("restored"):
            notes.append(
                f"datasketch baseline built in an earlier run and saved in `{ds['restored']}`, "
                "restored into a fresh redis-server: its build figures are that run's, its "
                "queries were timed in this one."
            )
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"
