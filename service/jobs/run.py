"""One clustering run: ``cluster(source, ...)``, over an index or a corpus in memory.

The API's and the CLI's jobs (through ``service.jobs.batch.execute``), the
CLI's ``--corpus`` and the benchmarks all run this: read the source, choose
the verification (``auto``: exact up to ``EXACT_LIMIT`` articles, then
estimated from signatures), link with ``shingling.families``, choose each
family's origin, and summarise. The Dask engine (``service.jobs.dask_engine``)
is the same run spread over a cluster, with the same results.

Results are approximate where ``shingling.families`` says so (LSH
candidates; ``estimate`` verification).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, Literal, Protocol

import numpy as np

from service.jobs.sources import Articles
from service.jobs.store import JobParams, VerifyMode
from shingling import PipelineConfig, Thresholds
from shingling.align import params_for
from shingling.families import (
    DEFAULT_WIRE_SOURCES,
    Cluster,
    ClusterParams,
    ShingleVerifier,
    SignatureVerifier,
    Stats,
    link,
    name_clusters,
)
from shingling.rewrites import RewriteVerifier

#: ``auto`` verification is exact (the stored shingle sets, read in bulk)
#: up to this many articles, then estimated from signatures.
EXACT_LIMIT = 20_000

Progress = Callable[[float], None]


class Source(Protocol):
    """An index (``IndexSource``) or a corpus in memory (``Corpus``)."""

    @property
    def read_share(self) -> float:
        """The share of a run's progress that reading the source takes."""
        ...

    def articles(
        self, config: PipelineConfig, params: JobParams, progress: Progress
    ) -> Articles: ...


def verify_mode(verify: VerifyMode, articles: int) -> Literal["exact", "estimate"]:
    """The verification of a run over ``articles`` articles."""
    if verify == "auto":
        return "exact" if articles <= EXACT_LIMIT else "estimate"
    return verify


def thresholds_for(base: Thresholds, overrides: dict[str, float]) -> Thresholds:
    known = set(Thresholds.__dataclass_fields__)
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown thresholds {sorted(unknown)}; known: {sorted(known)}")
    return Thresholds(**{**asdict(base), **overrides})


def cluster_params(params: JobParams, wire_sources: Sequence[str]) -> ClusterParams:
    return ClusterParams(
        max_bucket=params.max_bucket,
        slot_bands=params.slot_bands,
        passages=params.passages,
        wire_sources=tuple(wire_sources),
    )


def summarise(articles: int, clusters: Sequence[Cluster]) -> dict[str, int]:
    """The head of a run's summary: what was clustered into what."""
    return {
        "articles": articles,
        "clusters": len(clusters),
        "clustered_articles": sum(len(c.members) for c in clusters),
        "largest_cluster": max((len(c.members) for c in clusters), default=0),
    }


def cluster(
    source: Source,
    config: PipelineConfig,
    thresholds: Thresholds,
    params: JobParams,
    progress: Progress | None = None,
    *,
    wire_sources: Sequence[str] = DEFAULT_WIRE_SOURCES,
) -> tuple[dict[str, Any], list[Cluster]]:
    """Read, link, name. Returns (summary, clusters). Members whose ``source``
    is one of ``wire_sources`` are preferred as origins."""
    report = progress or (lambda _: None)
    share = source.read_share
    t0 = time.perf_counter()
    arts = source.articles(config, params, lambda f: report(share * f))
    mode = verify_mode(params.verify, len(arts.ids))
    t = thresholds_for(thresholds, params.thresholds)
    verifier, exact = _verifiers(arts, mode, config, t, params)
    cparams = cluster_params(params, wire_sources)
    stats = Stats()
    fingerprints = arts.fingerprints() if params.passages else None
    stats.timings["read"] = time.perf_counter() - t0
    uf = link(
        arts.sigs,
        config,
        verifier,
        params=cparams,
        stats=stats,
        progress=lambda f: report(share + (0.9 - share) * f),
        fingerprints=fingerprints,
        # A signature cannot estimate a short passage's share of a long text:
        # passage pairs are verified on the shingle sets wherever they are kept.
        passage_verify=exact,
    )
    t1 = time.perf_counter()
    groups = uf.groups()
    clusters = _named(groups, arts, verifier, cparams, lambda f: report(0.9 + 0.1 * f))
    stats.timings["origins"] = time.perf_counter() - t1
    summary = {
        **summarise(len(arts.ids), clusters),
        "verify": mode,
        "candidate_pairs": stats.candidate_pairs,
        "verified_pairs": stats.verified_pairs,
        "linked_pairs": stats.linked_pairs,
        "oversized_buckets": stats.oversized_buckets,
        "passage_pairs": stats.passage_pairs,
        "stock_fingerprints": stats.stock_fingerprints,
        "grey_pairs": getattr(verifier, "grey_pairs", 0),
        **({"rewritten": asdict(verifier.stats)} if isinstance(verifier, RewriteVerifier) else {}),
        "seconds": round(time.perf_counter() - t0, 3),
        "timings": {k: round(v, 3) for k, v in stats.timings.items()},
    }
    return summary, clusters


Verify = ShingleVerifier | SignatureVerifier | RewriteVerifier


def _verifiers(
    arts: Articles,
    mode: Literal["exact", "estimate"],
    config: PipelineConfig,
    t: Thresholds,
    params: JobParams,
) -> tuple[Verify, ShingleVerifier | RewriteVerifier | None]:
    """(the run's verifier, the exact one for passage pairs, or None when the
    shingle sets were not kept). With ``params.rewritten`` both are a
    ``RewriteVerifier`` over the exact one."""
    exact = ShingleVerifier(arts.shingles, t) if arts.shingles is not None else None
    if params.rewritten and (mode == "estimate" or exact is None or arts.texts is None):
        raise ValueError(
            "rewritten links need exact verification and the articles' texts: "
            "run the job with verify 'exact' (or 'auto' on at most "
            f"{EXACT_LIMIT:,} articles)"
        )
    if mode == "estimate":
        return SignatureVerifier(arts.sigs, config, t), exact
    if exact is None:
        raise ValueError("exact verification needs the articles' shingle sets")
    if not params.rewritten or arts.texts is None:  # (texts: checked above, for mypy)
        return exact, exact
    rewrites = RewriteVerifier(exact, arts.texts, t, params_for(params.semantic))
    return rewrites, rewrites


def _named(
    groups: list[np.ndarray],
    arts: Articles,
    verifier: Verify,
    cparams: ClusterParams,
    progress: Progress,
) -> list[Cluster]:
    """The families of ``groups`` with their origins, from the members' dates,
    sources and texts (read for the members only)."""
    member_rows = np.concatenate(groups) if groups else np.empty(0, np.int64)
    epochs = np.full(len(arts.ids), np.nan)
    sources: list[str | None] = [None] * len(arts.ids)
    epochs[member_rows], member_sources = arts.dates(member_rows)
    for row, source in zip(member_rows.tolist(), member_sources, strict=True):
        sources[row] = source
    return name_clusters(
        groups,
        arts.ids,
        lambda rows: epochs[rows],
        verifier.containment_matrix,
        params=cparams,
        progress=progress,
        sources=lambda rows: [sources[int(r)] for r in rows],
    )
