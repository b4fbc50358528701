"""The aligner's pair decision on MRPC (Microsoft Research Paraphrase Corpus).

``load`` reads the TSV (UTF-8 with BOM, tab-separated; columns label, id1,
id2, sentence1, sentence2; a header row, as in the official files, is
skipped). ``evaluate`` reports accuracy, F1 and ROC-AUC under stratified
k-fold cross-validation: in each fold a logistic regression over the
aligner's features (``shingling.align.FEATURES``) is fitted on the training
folds and its accuracy-maximising threshold chosen there, then applied to the
held-out fold. ``fit`` fits the same model on every pair: its constants are
what ``AlignParams`` ships. IDF is fitted on all sentences of the file
(label-free, as the aligner fits IDF on the two articles it aligns).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from shingling.align import FEATURES, AlignParams, design, pair_features, probability
from shingling.tokenise import words


@dataclass(frozen=True)
class Pair:
    label: int
    s1: str
    s2: str


@dataclass(frozen=True)
class Metrics:
    accuracy: float
    f1: float
    roc_auc: float


@dataclass(frozen=True)
class Report:
    """``cv``: out-of-fold predictions pooled over the folds; ``fold_accuracy``:
    mean and standard deviation over folds; ``shipped``: ``AlignParams`` as
    shipped, applied to every pair (in-sample if its constants were fitted on
    this file); ``baseline_auc``: unigram Jaccard, for reference."""

    pairs: int
    positives: int
    folds: int
    cv: Metrics
    fold_accuracy: tuple[float, float]
    shipped: Metrics
    baseline_auc: float
    fitted: AlignParams


#: What ``load`` reads, for error messages.
LAYOUT = (
    "the MRPC TSV file (msr_paraphrase_train.txt layout: Quality, #1 ID, #2 ID, "
    "#1 String, #2 String, tab-separated)"
)


def check_file(path: Path) -> None:
    """Refuse a missing path or a directory with a message saying what is expected."""
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("msr_paraphrase_*.txt")) or sorted(
            p.name for p in path.glob("*.tsv")
        )
        hint = f"; it holds {', '.join(inside)}: pass one of those" if inside else ""
        raise IsADirectoryError(f"expected {LAYOUT}, got a directory: {path}{hint}")
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}; expected {LAYOUT}")


def load(path: Path, limit: int | None = None) -> list[Pair]:
    """Pairs of an MRPC TSV file (at most ``limit``)."""
    check_file(path)
    pairs: list[Pair] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row or not "".join(row).strip():
                continue
            if row[0].strip() not in ("0", "1"):
                if lineno == 1:
                    continue  # header row ("Quality  #1 ID ...")
                raise ValueError(
                    f"{path}:{lineno}: label must be 0 or 1, got {row[0][:40]!r}; expected {LAYOUT}"
                )
            if len(row) < 5:
                raise ValueError(f"{path}:{lineno}: expected 5 tab-separated columns")
            pairs.append(Pair(int(row[0]), row[3], row[4]))
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


def features(pairs: Sequence[Pair]) -> np.ndarray:
    """Aligner features of every pair, IDF fitted on all sentences given."""
    s1 = [p.s1 for p in pairs]
    s2 = [p.s2 for p in pairs]
    return pair_features(s1, s2, context=[*s1, *s2])


def _best_threshold(prob: np.ndarray, y: np.ndarray) -> float:
    """The probability cut with the best accuracy (midpoint between scores)."""
    order = np.sort(np.unique(prob))
    cuts = np.concatenate([[0.0], (order[:-1] + order[1:]) / 2, [1.0]])
    acc = [(np.mean((prob >= c) == y), -abs(c - 0.5), c) for c in cuts]
    return float(max(acc)[2])


def _fit(x: np.ndarray, y: np.ndarray) -> AlignParams:
    model = LogisticRegression(C=10.0, max_iter=10000)
    model.fit(design(x), y)
    weights = tuple(round(float(w), 4) for w in model.coef_[0])
    base = AlignParams(weights=weights, bias=round(float(model.intercept_[0]), 4))
    threshold = _best_threshold(probability(x, base), y)
    return AlignParams(
        weights=weights, bias=base.bias, threshold=round(min(max(threshold, 0.01), 0.99), 4)
    )


def _metrics(y: np.ndarray, prob: np.ndarray, threshold: float) -> Metrics:
    pred = prob >= threshold
    return Metrics(
        accuracy=float(accuracy_score(y, pred)),
        f1=float(f1_score(y, pred)),
        roc_auc=float(roc_auc_score(y, prob)) if len(set(y)) == 2 else float("nan"),
    )


def fit(pairs: Sequence[Pair]) -> AlignParams:
    """``AlignParams`` with weights, bias and threshold fitted on all ``pairs``."""
    return _fit(features(pairs), np.array([p.label for p in pairs]))


def evaluate(
    pairs: Sequence[Pair], folds: int = 10, seed: int = 0, shipped: AlignParams | None = None
) -> Report:
    """Cross-validated quality of the aligner's pair decision on ``pairs``."""
    y = np.array([p.label for p in pairs])
    if len(set(y)) < 2 or min(np.bincount(y)) < folds:
        raise ValueError(f"need at least {folds} pairs of each label for {folds}-fold CV")
    x = features(pairs)
    oof_prob = np.zeros(len(y))
    oof_pred = np.zeros(len(y), dtype=bool)
    fold_acc = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        params = _fit(x[train], y[train])
        oof_prob[test] = probability(x[test], params)
        oof_pred[test] = oof_prob[test] >= params.threshold
        fold_acc.append(float(np.mean(oof_pred[test] == y[test])))
    cv = Metrics(
        accuracy=float(accuracy_score(y, oof_pred)),
        f1=float(f1_score(y, oof_pred)),
        roc_auc=float(roc_auc_score(y, oof_prob)),
    )
    shipped = shipped or AlignParams()
    baseline = [_jaccard(p.s1, p.s2) for p in pairs]
    return Report(
        pairs=len(pairs),
        positives=int(y.sum()),
        folds=folds,
        cv=cv,
        fold_accuracy=(float(np.mean(fold_acc)), float(np.std(fold_acc))),
        shipped=_metrics(y, probability(x, shipped), shipped.threshold),
        baseline_auc=float(roc_auc_score(y, baseline)),
        fitted=_fit(x, y),
    )


def _jaccard(s1: str, s2: str) -> float:
    a, b = set(words(s1)), set(words(s2))
    return len(a & b) / len(a | b) if a | b else 0.0


__all__ = ["FEATURES", "Metrics", "Pair", "Report", "evaluate", "fit", "load"]
