"""Families of graded reuse, built from PAN 2013 cases: does clustering keep
reworded copies with their source, and independent texts apart?

A corpus of graded text reuse (a source, its cut, lightly and heavily
revised copies, and independent texts on the same topics) is the case the
clustering job is for. PAN 2013 has the material: each annotated case is a
source passage and the passage a suspicious document made of it, verbatim
(``02-no-obfuscation``), machine-rewritten (``03-random-obfuscation``) or
summarised by a person (``05-summary-obfuscation``). ``graded_items`` cuts
each case's two passages out as two articles of one family, and takes from
each ``01-no-plagiarism`` pair a window of each document (a suspicious
document and a source that were paired for sharing a topic, without reuse)
as two singletons. ``evaluate_graded`` clusters them all as the batch job
does (bands, passage fingerprints, exact verification, optionally the
rewrite pass of ``shingling.rewrites``) and scores the clusters against the
families: ARI, and per subset the share of families kept together.

At most one case per document is taken, so families do not overlap.
Approximate as a benchmark: PAN's passages are cut from longer pages, so
their first and last sentences are often fragments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from service.evaluation import pan
from service.evaluation.families import cluster_like_the_job, job_verifier, run_stats, score_labels
from shingling import PipelineConfig, Thresholds, analyse
from shingling.align import AlignParams
from shingling.rewrites import MIN_SHARE

#: The reused subsets, in order of how much the copy was reworded.
REUSED = ("02-no-obfuscation", "03-random-obfuscation", "05-summary-obfuscation")
INDEPENDENT = "01-no-plagiarism"
#: Passages shorter than this (characters) are not taken.
MIN_CHARS = 400
#: An independent text's window: whole paragraphs up to about this many characters.
WINDOW_CHARS = 2500


@dataclass(frozen=True)
class Item:
    """One article of the benchmark: its text, its subset, and its family
    (``-1``: an independent text, a family of its own)."""

    id: str
    text: str
    subset: str
    family: int


@dataclass
class GradedReport:
    items: int = 0
    families: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    #: Per subset: families (or independent texts) and how many were kept together (linked).
    together: dict[str, Counter[str]] = field(default_factory=dict)
    stats: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"together": {k: dict(v) for k, v in self.together.items()}}


def _window(text: str, chars: int) -> str:
    """Whole paragraphs from the start of ``text``, up to about ``chars``."""
    out: list[str] = []
    size = 0
    for para in (p.strip() for p in text.split("\n\n")):
        if para:
            out.append(para)
            size += len(para)
        if size >= chars:
            break
    return "\n\n".join(out)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def graded_items(root: Path, *, fold: str = "all", limit: int | None = None) -> list[Item]:
    """The benchmark's articles (see the module doc): up to ``limit`` families
    per reused subset and ``limit`` independent pairs, from the ``fold``."""
    pairs = [p for p in pan.load(root, (*REUSED, INDEPENDENT)) if pan.in_fold(p, fold)]
    used: set[Path] = set()
    items: list[Item] = []
    taken: Counter[str] = Counter()
    families = 0
    for pair in pairs:
        if pair.susp in used or pair.src in used or (limit and taken[pair.subset] >= limit):
            continue
        if pair.subset == INDEPENDENT:
            for path in (pair.susp, pair.src):
                items.append(Item(path.stem, _window(_read(path), WINDOW_CHARS), pair.subset, -1))
        else:
            case = next(
                (
                    c
                    for c in pair.cases
                    if min(c.this_end - c.this_start, c.source_end - c.source_start) >= MIN_CHARS
                ),
                None,
            )
            if case is None:
                continue
            family, families = families, families + 1
            src, susp = _read(pair.src), _read(pair.susp)
            items.append(
                Item(
                    f"{pair.src.stem}@{case.source_start}",
                    src[case.source_start : case.source_end],
                    pair.subset,
                    family,
                )
            )
            items.append(
                Item(
                    f"{pair.susp.stem}@{case.this_start}",
                    susp[case.this_start : case.this_end],
                    pair.subset,
                    family,
                )
            )
        used.update((pair.susp, pair.src))
        taken[pair.subset] += 1
    return items


def evaluate_graded(
    items: Sequence[Item],
    config: PipelineConfig,
    thresholds: Thresholds,
    *,
    rewritten: AlignParams | None = None,
    min_share: float = MIN_SHARE,
) -> GradedReport:
    """Cluster ``items`` as the batch job does and score against their families
    (``rewritten``, ``min_share``: the rewrite pass's pair model and share)."""
    analyses = [analyse(i.text, config) for i in items]
    texts = [i.text for i in items]
    verifier = job_verifier(analyses, texts, thresholds, rewritten, min_share)
    result = cluster_like_the_job(analyses, [i.id for i in items], config, verifier)
    label = {m: n for n, c in enumerate(result.clusters) for m in c.members}
    pred = np.array([label.get(i.id, len(label) + k) for k, i in enumerate(items)])
    truth = np.array([i.family if i.family >= 0 else 1_000_000 + k for k, i in enumerate(items)])
    report = GradedReport(len(items), len({i.family for i in items if i.family >= 0}))
    report.scores = score_labels(pred, truth)
    report.stats = run_stats(result, verifier)
    for k, item in enumerate(items):
        c = report.together.setdefault(item.subset, Counter())
        if item.family >= 0:
            if k + 1 < len(items) and items[k + 1].family == item.family:  # first of its two
                c["families"] += 1
                c["together"] += int(pred[k] == pred[k + 1])
        else:
            c["texts"] += 1
            c["linked"] += int(item.id in label)
    return report
