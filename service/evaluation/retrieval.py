"""Retrieval on a PAN-layout corpus: does a query find the document it reuses?

What a new user measures: index every source document, post every
suspicious document as a query (``Index.match_text``, what
``POST /articles/match`` runs), and count a pair as found when its source
comes back with a verdict. Reported per subset (the kind of reuse) and, for
the reuse subsets, per *coverage*: the share of the suspicious document's
characters that the pair's annotated cases cover (a passage that is 3 % of a
page is the hard case for whole-document MinHash). On ``01-no-plagiarism``
the paired source must not come back as ``syndicated`` or ``duplicate``.

``fold`` splits the pairs by the suspicious document's number (even / odd):
tune on one half, report the other (docs/matching.md does).

With ``rewrites`` (``--rewritten``), each query also has the sentence aligner
judge its first candidates (``rewritten=true`` on the API): each tally then
counts the pairs the aligner judged and those it ``linked`` (a reworded copy,
reported ``syndicated`` even where the shingles say ``partial`` or nothing).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from service.evaluation.pan import SUBSETS, Fold, Pair, in_fold, load
from service.evaluation.pan import _read as pan_read
from service.model import ArticleIn, Match
from service.storage.index import Index
from service.storage.query import RewritePass
from shingling.normalise import scrub_controls

#: Coverage buckets, as the issue tracker's measurement names them.
BUCKETS = ((0.0, 0.10, "<10%"), (0.10, 0.30, "10-30%"), (0.30, 1.01, ">30%"))


@dataclass
class Tally:
    pairs: int = 0
    found: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    judged: int = 0  # found pairs the aligner judged (``rewrites`` only)
    linked: int = 0  # ... and called a reworded copy

    def add(self, m: Match | None) -> None:
        """Count one pair whose source came back as ``m`` (None: not at all)."""
        self.pairs += 1
        self.found += m is not None
        self.verdicts[str(m.verdict) if m else "none"] += 1
        if m is not None and m.rewrite is not None:
            self.judged += 1
            self.linked += m.rewrite.linked

    @property
    def recall(self) -> float:
        return self.found / self.pairs if self.pairs else float("nan")


@dataclass
class Report:
    sources: int
    queries: int
    fold: str
    passages: bool
    subsets: dict[str, Tally]
    coverage: dict[str, dict[str, Tally]]  # subset -> bucket -> tally
    timings: dict[str, float] = field(default_factory=dict)
    rewritten: str | None = None  # the pair model of the rewrite pass, if one ran

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data (``dataclasses.asdict`` would turn each Counter's
        items into keys)."""

        def tally(t: Tally) -> dict[str, object]:
            return {"pairs": t.pairs, "found": t.found, "recall": t.recall,
                    "verdicts": dict(t.verdicts), "judged": t.judged,
                    "linked": t.linked}  # fmt: skip

        return {
            "sources": self.sources,
            "queries": self.queries,
            "fold": self.fold,
            "passages": self.passages,
            "rewritten": self.rewritten,
            "subsets": {k: tally(t) for k, t in self.subsets.items()},
            "coverage": {k: {b: tally(t) for b, t in v.items()} for k, v in self.coverage.items()},
            "timings": self.timings,
        }

    def negatives_flagged(self, *verdicts: str) -> int:
        """Pairs of 01-no-plagiarism whose source came back with one of ``verdicts``."""
        tally = self.subsets.get("01-no-plagiarism")
        return sum(tally.verdicts[v] for v in verdicts) if tally else 0


def read(path: Path) -> str:
    """A PAN text as its offsets count it (decoded UTF-8, line ends kept),
    with control characters turned into spaces as the API does."""
    return scrub_controls(pan_read(path))


def coverage(pair: Pair, length: int) -> float:
    """Share of the suspicious text's characters inside the pair's cases."""
    if not length:
        return 0.0
    covered = sum(c.this_end - c.this_start for c in pair.cases)
    return min(1.0, covered / length)


def bucket(share: float) -> str:
    return next(name for lo, hi, name in BUCKETS if lo <= share < hi)


def pairs_of(root: Path, fold: Fold, subsets: Sequence[str] = SUBSETS) -> list[Pair]:
    return [p for p in load(root, subsets) if p.annotated and in_fold(p, fold)]


def index_sources(
    index: Index, paths: Iterable[Path], progress: Callable[[int], None] | None = None
) -> int:
    """Index every source document (id = file name without ``.txt``)."""
    batch: list[ArticleIn] = []
    done = 0

    def flush() -> None:
        nonlocal done
        index.put_many(batch)
        done += len(batch)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for path in paths:
        batch.append(ArticleIn(text=read(path), id=path.stem))
        if len(batch) >= 128:
            flush()
    if batch:
        flush()
    return done


def evaluate(
    index: Index,
    pairs: Sequence[Pair],
    *,
    limit: int = 50,
    rewrites: RewritePass | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Tally], dict[str, dict[str, Tally]], int]:
    """Query with each suspicious document once (``rewrites``: judged by the
    aligner too, as ``rewritten=true`` does); tally every pair."""
    by_susp: dict[Path, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_susp[p.susp].append(p)
    subsets: dict[str, Tally] = defaultdict(Tally)
    buckets: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for susp, its_pairs in by_susp.items():
        text = read(susp)
        found = index.match_text(text, limit=limit, rewrites=rewrites)
        matches: dict[str, Match] = {m.id: m for m in found}
        for p in its_pairs:
            m = matches.get(p.src.stem)
            subsets[p.subset].add(m)
            buckets[p.subset][bucket(coverage(p, len(text)))].add(m)
        if progress is not None:
            progress(1)
    return dict(subsets), {k: dict(v) for k, v in buckets.items()}, len(by_susp)


def markdown(report: Report) -> str:
    """The report as Markdown tables (as pasted into docs/matching.md)."""
    mode = "bands + passage fingerprints" if report.passages else "LSH bands only"
    if report.rewritten:
        mode += f", rewritten=true ({report.rewritten} pair model)"
    extra = " judged | linked |" if report.rewritten else ""
    out = [
        f"Retrieval, {mode}: {report.sources} sources indexed, {report.queries} queries, "
        f"fold {report.fold}",
        "",
        "| subset | pairs | found (recall) | duplicate | syndicated | partial |" + extra,
        "|---|---:|---:|---:|---:|---:|" + "---:|" * (2 if report.rewritten else 0),
    ]
    for name in sorted(report.subsets):
        t = report.subsets[name]
        out.append(
            f"| {name} | {t.pairs} | {t.recall:.3f} | {t.verdicts['duplicate']} | "
            f"{t.verdicts['syndicated']} | {t.verdicts['partial']} |"
            + (f" {t.judged} | {t.linked} |" if report.rewritten else "")
        )
    out += ["", "| subset | " + " | ".join(b for *_, b in BUCKETS) + " |", "|---|---|---|---|"]
    for name in sorted(report.coverage):
        if name == "01-no-plagiarism":
            continue
        cells = []
        for *_, b in BUCKETS:
            got = report.coverage[name].get(b)
            cells.append(f"{got.recall:.3f} (n={got.pairs})" if got else "-")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    flagged = report.negatives_flagged("duplicate", "syndicated")
    out += [
        "",
        f"01-no-plagiarism sources returned as duplicate or syndicated: **{flagged}**; "
        f"as partial: {report.negatives_flagged('partial')}.",
    ]
    if report.timings:
        out.append("Time: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.timings.items()) + ".")
    return "\n".join(out)
