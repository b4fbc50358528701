"""Quality of batch clustering: against known families, and on PAN pairs.

``score_labels``: Adjusted Rand Index (scikit-learn) and pairwise precision,
recall and F1 (a pair of articles is predicted together when both are in one
cluster, truly together when both are in one family). Articles the prediction
leaves out are singletons, as the API leaves singletons out.

``load_clusters``: a prediction (``copydesk cluster --format json|csv`` output
or an API result) or a truth file (``{"families": [[id, ...], ...]}`` as
``bench.synth`` writes it, or the same cluster format) as ``id -> label``.

``evaluate_pan``: PAN 2013 text-alignment pairs at pair level. Every
document of the chosen subsets is clustered together (exact verification);
each pair is then ``together`` (one cluster), ``partial`` (apart, but the
online verdict for the two says ``partial``), ``missed`` (apart although the
verdict links them: LSH never proposed the pair, nor a chain joining them) or
``apart``. Reused pairs
should be together or partial; the negatives (``01-no-plagiarism``) apart.
PAN documents carry no dates, so this measures links, not origins.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

from shingling import Analysis, PipelineConfig, Thresholds, Verdict, analyse, compare
from shingling.align import AlignParams
from shingling.families import (
    LINKING,
    ClusterParams,
    ClusterResult,
    ShingleVerifier,
    cluster_signatures,
)
from shingling.rewrites import MIN_SHARE, RewriteVerifier


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def score_labels(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """ARI and pairwise precision/recall/F1 of two labelings of the same items."""
    pred, truth = np.asarray(pred), np.asarray(truth)
    if pred.shape != truth.shape:
        raise ValueError(f"{len(pred)} predicted labels for {len(truth)} true ones")
    table = contingency_matrix(truth, pred, sparse=True)
    together = _pairs(table.data)
    predicted = _pairs(np.asarray(table.sum(axis=0)).ravel())
    actual = _pairs(np.asarray(table.sum(axis=1)).ravel())
    precision = together / predicted if predicted else 1.0
    recall = together / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "ari": float(adjusted_rand_score(truth, pred)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def load_clusters(path: Path) -> dict[str, int]:
    """``id -> group number`` from a clusters/families JSON file or a clusters CSV."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if rows and not {"cluster_id", "id"} <= set(rows[0]):
            raise ValueError(f"{path}: CSV needs the columns cluster_id and id")
        names = {cid: n for n, cid in enumerate(dict.fromkeys(r["cluster_id"] for r in rows))}
        return {r["id"]: names[r["cluster_id"]] for r in rows}
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "families" in data:
        groups = data["families"]
    elif isinstance(data, dict) and "clusters" in data:
        groups = [c["members"] for c in data["clusters"]]
    else:
        raise ValueError(f"{path}: expected {{'families': [...]}} or {{'clusters': [...]}}")
    out: dict[str, int] = {}
    for n, members in enumerate(groups):
        for member in members:
            if member in out:
                raise ValueError(f"{path}: id {member!r} is in more than one group")
            out[str(member)] = n
    return out


def compare_clusterings(pred: dict[str, int], truth: dict[str, int]) -> dict[str, float]:
    """``score_labels`` over the union of ids; an id missing on one side is a singleton."""
    ids = sorted(set(pred) | set(truth))
    offset = max([*pred.values(), *truth.values(), 0]) + 1

    def labels(groups: dict[str, int]) -> np.ndarray:
        return np.array([groups.get(i, offset + n) for n, i in enumerate(ids)])

    scores = score_labels(labels(pred), labels(truth))
    return {
        **scores,
        "articles": float(len(ids)),
        "predicted_clusters": float(sum(1 for c in Counter(pred.values()).values() if c > 1)),
        "true_families": float(sum(1 for c in Counter(truth.values()).values() if c > 1)),
    }


# -- clustering an evaluation corpus as the job does ----------------------------------
def job_verifier(
    analyses: Sequence[Analysis],
    texts: Sequence[str],
    thresholds: Thresholds,
    rewritten: AlignParams | None,
    min_share: float = MIN_SHARE,
) -> ShingleVerifier | RewriteVerifier:
    """Exact verification of the analysed texts, with the rewrite pass when
    ``rewritten`` gives its pair model (``shingling.rewrites``)."""
    exact = ShingleVerifier(lambda rows: [analyses[r].shingles for r in rows], thresholds)
    if rewritten is None:
        return exact
    return RewriteVerifier(
        exact, lambda rows: [texts[r] for r in rows], thresholds, rewritten, min_share=min_share
    )


def cluster_like_the_job(
    analyses: Sequence[Analysis],
    ids: list[str],
    config: PipelineConfig,
    verifier: ShingleVerifier | RewriteVerifier,
    params: ClusterParams | None = None,
) -> ClusterResult:
    """The job's candidates (bands, then passage fingerprints) and links; no dates."""
    return cluster_signatures(
        np.stack([a.signature for a in analyses]),
        ids,
        np.full(len(ids), np.nan),
        config,
        verifier,
        params=params,
        fingerprints=[a.fingerprints for a in analyses],
    )


def run_stats(
    result: ClusterResult, verifier: ShingleVerifier | RewriteVerifier
) -> dict[str, object]:
    """The run's counts, with the rewrite pass's when it ran."""
    stats: dict[str, object] = asdict(result.stats)
    if isinstance(verifier, RewriteVerifier):
        stats["rewritten"] = asdict(verifier.stats)
    return stats


# -- PAN ------------------------------------------------------------------------------
@dataclass
class PanReport:
    """Counts per subset of ``together`` / ``partial`` / ``apart`` pairs."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    documents: int = 0
    clusters: int = 0
    stats: dict[str, object] = field(default_factory=dict)

    def rate(self, subset: str, outcome: str) -> float:
        c = self.counts.get(subset, Counter())
        total = sum(c.values())
        return c[outcome] / total if total else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "clusters": self.clusters,
            "stats": self.stats,
            "subsets": {
                s: {
                    "pairs": sum(c.values()),
                    **{k: c[k] for k in ("together", "partial", "missed", "apart")},
                    "together_rate": round(self.rate(s, "together"), 4),
                    "flagged_rate": round(self.rate(s, "together") + self.rate(s, "partial"), 4),
                }
                for s, c in sorted(self.counts.items())
            },
        }


def evaluate_pan(
    root: Path,
    config: PipelineConfig,
    thresholds: Thresholds,
    *,
    subsets: Sequence[str] | None = None,
    limit: int | None = None,
    params: ClusterParams | None = None,
    progress: Callable[[float], None] | None = None,
    fold: str = "all",
    rewritten: AlignParams | None = None,
) -> PanReport:
    """Cluster the documents of PAN pairs and score each pair (see the module doc).

    The candidates are the job's: LSH bands, then shared passage fingerprints
    (``params.passages``). ``limit``: at most that many annotated pairs per
    subset (the first ones); ``fold``: only pairs whose suspicious document
    number is even / odd (``pan.in_fold``); ``rewritten``: also link partial
    pairs the aligner, with these parameters, finds rewritten
    (``shingling.rewrites``), as a job with ``rewritten`` does.
    """
    from service.evaluation import pan

    chosen = [p for p in pan.load(root, subsets or pan.SUBSETS) if pan.in_fold(p, fold)]
    pairs = pan.select(chosen, limit, sample=False)
    paths = sorted({p for pair in pairs for p in (pair.susp, pair.src)})
    row = {p: i for i, p in enumerate(paths)}
    texts, analyses = [], []
    for i, path in enumerate(paths):
        texts.append(path.read_text(encoding="utf-8", errors="replace"))
        analyses.append(analyse(texts[-1], config))
        if progress is not None and i % 100 == 0:
            progress(0.8 * i / len(paths))
    verifier = job_verifier(analyses, texts, thresholds, rewritten)
    result = cluster_like_the_job(analyses, [p.name for p in paths], config, verifier, params)
    label = {m: n for n, c in enumerate(result.clusters) for m in c.members}
    report = PanReport(
        documents=len(paths), clusters=len(result.clusters), stats=run_stats(result, verifier)
    )
    for pair in pairs:
        a, b = pair.susp.name, pair.src.name
        if a in label and label.get(a) == label.get(b):
            outcome = "together"
        else:
            s = compare(analyses[row[pair.susp]].shingles, analyses[row[pair.src]].shingles)
            verdict = s.verdict(thresholds)
            if verdict in LINKING:  # linked when compared, but LSH never proposed it
                outcome = "missed"
            else:
                outcome = "partial" if verdict == Verdict.PARTIAL else "apart"
        report.counts.setdefault(pair.subset, Counter())[outcome] += 1
    if progress is not None:
        progress(1.0)
    return report
