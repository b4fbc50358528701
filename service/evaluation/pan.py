"""The aligner on the PAN text-alignment corpus (PAN 2013 layout).

Each evaluated pair is aligned with the source document as ``a`` and the
suspicious document as ``b``, so every suspicious sentence gets ``copied``,
``paraphrased`` or ``added``.

Sentence level: a suspicious sentence is *inside* a case when at least half
of its characters fall in the case's ``this_offset``/``this_length`` span;
its gold label is then ``copied`` for ``obfuscation="none"`` and
``paraphrased`` for ``random``, ``translation-chain`` and ``summary``;
otherwise it is ``outside`` (gold ``added``). Rates are reported per type.

Character level: the standard PAN measures (Potthast et al., "An Evaluation
Framework for Plagiarism Detection", COLING 2010): macro precision and
recall over cases and detections (a detection counts for a case only when
it overlaps it in both documents; characters of both documents count),
granularity, and plagdet = F1 / log2(1 + granularity). A detection is a run
of consecutive suspicious sentences labelled copied/paraphrased whose source
partners stay close together; its source span runs from the first to the
last partner.

Pairs of ``05-summary-obfuscation`` whose XML carries no plagiarism feature
are not annotated (they are not negatives either): they are skipped and
counted in ``Report.skipped``.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from math import log2
from pathlib import Path
from typing import Literal

from shingling.align import AlignParams, Sentence, align

SUBSETS = (
    "01-no-plagiarism",
    "02-no-obfuscation",
    "03-random-obfuscation",
    "04-translation-obfuscation",
    "05-summary-obfuscation",
)
#: Gold sentence classes, in report order.
CLASSES = ("none", "random", "translation-chain", "summary", "outside")
REUSED = ("copied", "paraphrased")
#: A detection is cut when the source partner jumps by more than this many sentences.
MAX_SOURCE_GAP = 3

#: Halves of the corpus by the suspicious document's number: what is chosen on
#: one half is reported on the other.
Fold = Literal["all", "even", "odd"]
_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class Case:
    """One plagiarism case: spans ``[start, end)`` in each document."""

    obfuscation: str
    this_start: int
    this_end: int
    source_start: int
    source_end: int


@dataclass(frozen=True)
class Pair:
    subset: str
    susp: Path
    src: Path
    cases: tuple[Case, ...]
    annotated: bool  # False: an XML of 05 without a plagiarism feature


@dataclass(frozen=True)
class Detection:
    this_start: int
    this_end: int
    source_start: int
    source_end: int


@dataclass(frozen=True)
class PairResult:
    """Gold class and predicted label of every suspicious sentence, the
    cases and detections (for the character measures)."""

    subset: str
    labels: tuple[tuple[str, str], ...]  # (gold class, predicted label)
    cases: tuple[Case, ...]
    detections: tuple[Detection, ...]
    rewritten: str | None = None  # the alignment summary's document-level degree


@dataclass(frozen=True)
class CharMeasures:
    precision: float
    recall: float
    granularity: float
    plagdet: float
    cases: int
    detections: int


@dataclass(frozen=True)
class Report:
    """``confusion[gold class][predicted label]`` counts suspicious sentences;
    ``pair_flags[subset]`` = (pairs with at least one reused sentence, pairs);
    ``rewritten[subset][degree]`` counts pairs by the summary's ``rewritten``
    (``"none"``: not a copy)."""

    pairs: int
    skipped: int
    confusion: dict[str, dict[str, int]]
    pair_flags: dict[str, tuple[int, int]]
    chars: dict[str, CharMeasures]
    overall: CharMeasures
    params: AlignParams = field(default_factory=AlignParams)
    rewritten: dict[str, dict[str, int]] = field(default_factory=dict)

    def rate(self, gold: str, *labels: str) -> float:
        """Share of sentences of class ``gold`` labelled with one of ``labels``."""
        row = self.confusion.get(gold, {})
        total = sum(row.values())
        return sum(row.get(x, 0) for x in labels) / total if total else float("nan")


# ------------------------------------------------------------------ reading


def _case(el: ET.Element) -> Case:
    obf = el.get("obfuscation") or el.get("type") or "unknown"
    t0, s0 = int(el.get("this_offset", 0)), int(el.get("source_offset", 0))
    return Case(
        obf, t0, t0 + int(el.get("this_length", 0)), s0, s0 + int(el.get("source_length", 0))
    )


#: What ``load`` reads, for error messages.
LAYOUT = (
    "the pan13_train folder (PAN 2013 text alignment: src/, susp/ and subset folders "
    "such as 02-no-obfuscation/)"
)


def check_folder(root: Path) -> None:
    """Refuse a missing path, a file, or a folder without src/ and susp/, saying what
    is expected."""
    if not root.exists():
        raise FileNotFoundError(f"no such folder: {root}; expected {LAYOUT}")
    if not root.is_dir():
        raise NotADirectoryError(f"expected {LAYOUT}, got a file: {root}")
    if not (root / "susp").is_dir() or not (root / "src").is_dir():
        raise FileNotFoundError(
            f"{root} has no susp/ and src/ folders: not a PAN 2013 corpus; expected {LAYOUT}"
        )


def load(root: Path, subsets: Sequence[str] = SUBSETS) -> list[Pair]:
    """Every pair of the given subset folders under ``root``."""
    check_folder(root)
    pairs: list[Pair] = []
    for subset in subsets:
        folder = root / subset
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing (subsets: {', '.join(SUBSETS)})")
        for xml in sorted(folder.glob("*.xml")):
            susp_name, _, src_name = xml.stem.partition("-source-")
            doc = ET.parse(xml).getroot()
            feats = [f for f in doc.iter("feature") if f.get("name") == "plagiarism"]
            annotated = bool(feats) or subset == "01-no-plagiarism"
            pairs.append(
                Pair(
                    subset,
                    root / "susp" / f"{susp_name}.txt",
                    root / "src" / f"source-{src_name}.txt",
                    tuple(_case(f) for f in feats),
                    annotated,
                )
            )
    return pairs


def select(pairs: Sequence[Pair], limit: int | None, sample: bool, seed: int = 0) -> list[Pair]:
    """At most ``limit`` annotated pairs per subset: the first ones, or a seeded sample."""
    by_subset: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.annotated:
            by_subset[p.subset].append(p)
    out: list[Pair] = []
    rng = random.Random(seed)
    for subset in sorted(by_subset):
        items = by_subset[subset]
        if limit is not None and limit < len(items):
            items = rng.sample(items, limit) if sample else items[:limit]
        out.extend(items)
    return out


def in_fold(pair: Pair, fold: Fold | str) -> bool:
    """Whether the pair's suspicious document number has the ``fold``'s parity."""
    if fold == "all":
        return True
    m = _NUMBER.search(pair.susp.stem)
    parity = int(m.group(1)) % 2 if m else 0
    return parity == (0 if fold == "even" else 1)


# --------------------------------------------------------------- evaluation


def _read(path: Path) -> str:
    # PAN offsets count characters of the decoded UTF-8 text; keep \r\n as is.
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return fh.read()


def gold_class(start: int, end: int, cases: Sequence[Case]) -> str:
    """``outside`` or the obfuscation of the case covering at least half the sentence."""
    best, best_overlap = "outside", 0
    for c in cases:
        overlap = min(end, c.this_end) - max(start, c.this_start)
        if overlap > best_overlap:
            best, best_overlap = c.obfuscation, overlap
    return best if best_overlap * 2 >= end - start else "outside"


def detections(a: Sequence[Sentence], b: Sequence[Sentence]) -> list[Detection]:
    """Runs of reused suspicious sentences (``b``) whose source partners stay close."""
    out: list[Detection] = []
    run: list[Sentence] = []

    def flush() -> None:
        if run:
            partners = [a[s.match] for s in run if s.match is not None]
            out.append(
                Detection(
                    run[0].start,
                    run[-1].end,
                    min(p.start for p in partners),
                    max(p.end for p in partners),
                )
            )
            run.clear()

    for s in b:
        if s.label not in REUSED or s.match is None:
            flush()
            continue
        if run and (run[-1].index != s.index - 1 or abs(run[-1].match - s.match) > MAX_SOURCE_GAP):  # type: ignore[operator]
            flush()
        run.append(s)
    flush()
    return out


def evaluate_pair(pair: Pair, params: AlignParams) -> PairResult:
    """Align one pair (source = a, suspicious = b) and score its sentences."""
    result = align(_read(pair.src), _read(pair.susp), params)
    labels = tuple((gold_class(s.start, s.end, pair.cases), s.label) for s in result.b)
    return PairResult(
        pair.subset,
        labels,
        pair.cases,
        tuple(detections(result.a, result.b)),
        result.summary.rewritten,
    )


def _overlap(x0: int, x1: int, y0: int, y1: int) -> int:
    return max(0, min(x1, y1) - max(x0, y0))


def _union_len(spans: Iterable[tuple[int, int]]) -> int:
    total, cur_s, cur_e = 0, None, None
    for s, e in sorted(spans):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s  # type: ignore[operator]
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s  # type: ignore[operator]
    return total


def _covered_share(span: Case | Detection, others: list[Case] | list[Detection]) -> float:
    """Share of ``span``'s characters (suspicious and source side) that ``others`` cover."""
    size = (span.this_end - span.this_start) + (span.source_end - span.source_start)
    covered = _union_len(
        (max(span.this_start, o.this_start), min(span.this_end, o.this_end)) for o in others
    ) + _union_len(
        (max(span.source_start, o.source_start), min(span.source_end, o.source_end)) for o in others
    )
    return covered / size if size else 0.0


def char_measures(results: Sequence[PairResult]) -> CharMeasures:
    """PAN precision, recall, granularity and plagdet over the given pairs."""
    rec_sum = prec_sum = 0.0
    n_cases = n_dets = detected = gran_sum = 0
    for r in results:
        n_cases += len(r.cases)
        n_dets += len(r.detections)

        def hits(c: Case, d: Detection) -> bool:
            return (
                _overlap(c.this_start, c.this_end, d.this_start, d.this_end) > 0
                and _overlap(c.source_start, c.source_end, d.source_start, d.source_end) > 0
            )

        for c in r.cases:
            ds = [d for d in r.detections if hits(c, d)]
            rec_sum += _covered_share(c, ds)
            if ds:
                detected += 1
                gran_sum += len(ds)
        for d in r.detections:
            prec_sum += _covered_share(d, [c for c in r.cases if hits(c, d)])
    recall = rec_sum / n_cases if n_cases else 0.0
    precision = prec_sum / n_dets if n_dets else 0.0
    gran = gran_sum / detected if detected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return CharMeasures(precision, recall, gran, f1 / log2(1 + gran), n_cases, n_dets)


def evaluate(
    pairs: Sequence[Pair],
    params: AlignParams | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    skipped: int = 0,
) -> Report:
    """Align every pair and aggregate the sentence and character measures."""
    params = params or AlignParams()
    work = partial(evaluate_pair, params=params)
    results: list[PairResult] = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for r in pool.map(work, pairs, chunksize=4):
                results.append(r)
                if progress:
                    progress(1)
    else:
        for p in pairs:
            results.append(work(p))
            if progress:
                progress(1)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    flags: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_subset: dict[str, list[PairResult]] = defaultdict(list)
    degrees: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        degrees[r.subset][r.rewritten or "none"] += 1
        for gold, label in r.labels:
            confusion[gold][label] += 1
        flags[r.subset][0] += any(label in REUSED for _, label in r.labels)
        flags[r.subset][1] += 1
        by_subset[r.subset].append(r)
    return Report(
        pairs=len(results),
        skipped=skipped,
        confusion={g: dict(confusion[g]) for g in CLASSES if g in confusion},
        pair_flags={k: (v[0], v[1]) for k, v in sorted(flags.items())},
        chars={k: char_measures(v) for k, v in sorted(by_subset.items())},
        overall=char_measures(results),
        params=params,
        rewritten={k: dict(v) for k, v in sorted(degrees.items())},
    )
