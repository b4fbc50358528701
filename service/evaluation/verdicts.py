"""Document-level verdicts on PAN 2013 text-alignment pairs.

Each PAN subset is a kind of reuse: none (negatives), verbatim copies,
machine rewrites (random, translation chain) and human summaries. For every
pair this scores the suspicious document against its source exactly as the
index does (``compare`` + ``verdict``) and checks whether LSH would have
offered the pair as a candidate (any shared band key). It is the measurement
behind the verdict thresholds and the (b, r) choice in docs/matching.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from service.evaluation.pan import SUBSETS
from shingling import Analysis, PipelineConfig, Thresholds, analyse, compare

_PAIR = re.compile(r"^(suspicious-document\d+)-(source-document\d+)\.xml$")


@dataclass
class SubsetResult:
    subset: str
    pairs: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    candidates: int = 0
    jaccard: list[float] = field(default_factory=list)
    containment: list[float] = field(default_factory=list)
    narrative: list[int] = field(default_factory=list)

    def rate(self, verdict: str) -> float:
        return self.verdicts[verdict] / self.pairs if self.pairs else 0.0


def pan_pairs(root: Path, subset: str, limit: int | None) -> Iterator[tuple[Path, Path]]:
    """(suspicious, source) text paths of one subset, in sorted order."""
    folder = root / subset
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing: pass the pan13_train folder")
    n = 0
    for xml in sorted(folder.glob("*.xml")):
        m = _PAIR.match(xml.name)
        if not m:
            continue
        yield root / "susp" / f"{m.group(1)}.txt", root / "src" / f"{m.group(2)}.txt"
        n += 1
        if limit is not None and n >= limit:
            return


def evaluate(
    root: Path,
    *,
    limit: int | None = 200,
    config: PipelineConfig | None = None,
    thresholds: Thresholds | None = None,
) -> list[SubsetResult]:
    """Verdicts and LSH candidacy per PAN subset (``limit`` pairs each)."""
    config = config or PipelineConfig()
    thresholds = thresholds or Thresholds()
    cache: dict[Path, Analysis] = {}

    def analysed(path: Path) -> Analysis:
        if path not in cache:
            cache[path] = analyse(path.read_text(encoding="utf-8"), config)
        return cache[path]

    results = []
    for subset in SUBSETS:
        res = SubsetResult(subset)
        for susp, src in pan_pairs(root, subset, limit):
            a, b = analysed(susp), analysed(src)
            scores = compare(a.shingles, b.shingles)
            verdict = scores.verdict(thresholds)
            res.pairs += 1
            res.verdicts[str(verdict) if verdict else "none"] += 1
            res.candidates += bool(np.any(a.bands == b.bands))
            res.jaccard.append(scores.jaccard)
            res.containment.append(max(scores.containment, scores.reverse_containment))
            res.narrative.append(scores.shared_narrative)
        results.append(res)
    return results


def markdown(results: list[SubsetResult]) -> str:
    head = (
        "| subset | pairs | median J | median max-containment | median shared narrative "
        "| LSH candidate | duplicate | syndicated | partial | no match |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        rows.append(
            f"| {r.subset} | {r.pairs} | {np.median(r.jaccard):.3f} | "
            f"{np.median(r.containment):.3f} | {np.median(r.narrative):.0f} | "
            f"{r.candidates / max(r.pairs, 1):.3f} | {r.rate('duplicate'):.3f} | "
            f"{r.rate('syndicated'):.3f} | {r.rate('partial'):.3f} | {r.rate('none'):.3f} |"
        )
    return head + "\n".join(rows) + "\n"
