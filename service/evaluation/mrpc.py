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

``semantic=True`` does the same with the static-embedding features added
(``shingling.align.feature_names(True)``); ``model_file`` is the fit on all
pairs as ``shingling/data/pair_model.json`` stores it. The features are
standardised for the fit and the weights mapped back onto the raw ones. The
regularisation ``C`` is chosen from ``C_GRID`` by an inner cross-validation
on each fit's own training pairs (nested CV): nothing is tuned on a held-out
fold, so the cross-validated figures are held-out figures. The lexical
constants ``AlignParams`` ships predate this procedure (C = 10, unscaled)
and are kept, so the default aligner does not change.
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

from shingling.align import (
    FEATURES,
    AlignParams,
    design,
    feature_names,
    pair_features,
    probability,
    semantic_params,
)
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
    fitted_c: float = 0.0
    fold_c: tuple[float, ...] = ()


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


def features(pairs: Sequence[Pair], semantic: bool = False) -> np.ndarray:
    """Aligner features of every pair, IDF fitted on all sentences given."""
    s1 = [p.s1 for p in pairs]
    s2 = [p.s2 for p in pairs]
    return pair_features(s1, s2, context=[*s1, *s2], semantic=semantic)


def _best_threshold(prob: np.ndarray, y: np.ndarray) -> float:
    """The probability cut with the best accuracy (midpoint between scores)."""
    order = np.sort(np.unique(prob))
    cuts = np.concatenate([[0.0], (order[:-1] + order[1:]) / 2, [1.0]])
    acc = [(np.mean((prob >= c) == y), -abs(c - 0.5), c) for c in cuts]
    return float(max(acc)[2])


#: Inverse regularisation strengths tried; each fit picks one by an inner
#: cross-validation on its own training pairs (``_choose_c``), so a held-out
#: fold never takes part in choosing it.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
INNER_FOLDS = 5


def _fit_c(x: np.ndarray, y: np.ndarray, semantic: bool, c: float) -> AlignParams:
    """Logistic regression over the standardised design (so one ``C`` treats every
    feature alike), its weights mapped back onto the raw design, and the
    accuracy-maximising threshold on the same pairs."""
    d = design(x)
    mu, sd = d.mean(axis=0), d.std(axis=0)
    sd[sd == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=10000)
    model.fit((d - mu) / sd, y)
    raw = model.coef_[0] / sd
    weights = tuple(float(f"{w:.6g}") for w in raw)
    bias = float(f"{model.intercept_[0] - float(raw @ mu):.6g}")
    base = AlignParams(weights=weights, bias=bias, semantic=semantic)
    threshold = _best_threshold(probability(x, base), y)
    return AlignParams(
        weights=weights,
        bias=bias,
        threshold=round(min(max(threshold, 0.01), 0.99), 4),
        semantic=semantic,
    )


def _choose_c(x: np.ndarray, y: np.ndarray, semantic: bool) -> float:
    """The ``C_GRID`` value with the best inner-CV accuracy on these pairs (ties: smaller)."""
    folds = min(INNER_FOLDS, int(np.bincount(y).min()))
    if folds < 2:
        return C_GRID[-1]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    splits = list(splitter.split(x, y))
    scores = []
    for c in C_GRID:
        right = 0
        for train, test in splits:
            params = _fit_c(x[train], y[train], semantic, c)
            right += int(np.sum((probability(x[test], params) >= params.threshold) == y[test]))
        scores.append(right)
    return C_GRID[int(np.argmax(scores))]


def _fit(x: np.ndarray, y: np.ndarray, semantic: bool = False) -> tuple[AlignParams, float]:
    c = _choose_c(x, y, semantic)
    return _fit_c(x, y, semantic, c), c


def _metrics(y: np.ndarray, prob: np.ndarray, threshold: float) -> Metrics:
    pred = prob >= threshold
    return Metrics(
        accuracy=float(accuracy_score(y, pred)),
        f1=float(f1_score(y, pred)),
        roc_auc=float(roc_auc_score(y, prob)) if len(set(y)) == 2 else float("nan"),
    )


def fit(pairs: Sequence[Pair], semantic: bool = False) -> AlignParams:
    """``AlignParams`` with weights, bias and threshold fitted on all ``pairs``."""
    return _fit(features(pairs, semantic), np.array([p.label for p in pairs]), semantic)[0]


def model_file(params: AlignParams, source: str, pairs: int, report: Report | None) -> dict:  # type: ignore[type-arg]
    """``params`` as ``shingling/data/pair_model.json`` stores them, with provenance."""
    out = {
        "features": list(feature_names(params.semantic)),
        "weights": list(params.weights),
        "bias": params.bias,
        "threshold": params.threshold,
        "fitted_on": f"{source}: all {pairs} MRPC training pairs",
        "how": (
            f"service.evaluation.mrpc.fit(semantic={params.semantic}): logistic regression "
            "(scikit-learn) over the standardised features and their squares, weights "
            "mapped back to the raw features, C="
            + (f"{report.fitted_c}" if report is not None else "?")
            + f" chosen from {list(C_GRID)} by {INNER_FOLDS}-fold CV on the same pairs, "
            "IDF over all sentences of the file, threshold maximising accuracy on the "
            "same pairs"
        ),
        "command": f"copydesk eval mrpc {source} --save-model shingling/data/pair_model.json",
    }
    if report is not None:
        out["cross_validated_accuracy"] = round(report.cv.accuracy, 4)
    return out


def evaluate(
    pairs: Sequence[Pair],
    folds: int = 10,
    seed: int = 0,
    shipped: AlignParams | None = None,
    semantic: bool = False,
    x: np.ndarray | None = None,
) -> Report:
    """Cross-validated quality of the aligner's pair decision on ``pairs``
    (``x``: their ``features``, if already computed)."""
    y = np.array([p.label for p in pairs])
    if len(set(y)) < 2 or min(np.bincount(y)) < folds:
        raise ValueError(f"need at least {folds} pairs of each label for {folds}-fold CV")
    x = features(pairs, semantic) if x is None else x
    oof_prob = np.zeros(len(y))
    oof_pred = np.zeros(len(y), dtype=bool)
    fold_acc, fold_c = [], []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        params, c = _fit(x[train], y[train], semantic)
        fold_c.append(c)
        oof_prob[test] = probability(x[test], params)
        oof_pred[test] = oof_prob[test] >= params.threshold
        fold_acc.append(float(np.mean(oof_pred[test] == y[test])))
    cv = Metrics(
        accuracy=float(accuracy_score(y, oof_pred)),
        f1=float(f1_score(y, oof_pred)),
        roc_auc=float(roc_auc_score(y, oof_prob)),
    )
    if shipped is None:
        shipped = _shipped(semantic)
    baseline = [_jaccard(p.s1, p.s2) for p in pairs]
    fitted, fitted_c = _fit(x, y, semantic)
    return Report(
        pairs=len(pairs),
        positives=int(y.sum()),
        folds=folds,
        cv=cv,
        fold_accuracy=(float(np.mean(fold_acc)), float(np.std(fold_acc))),
        shipped=_metrics(y, probability(x, shipped), shipped.threshold),
        baseline_auc=float(roc_auc_score(y, baseline)),
        fitted=fitted,
        fitted_c=fitted_c,
        fold_c=tuple(fold_c),
    )


def _shipped(semantic: bool) -> AlignParams:
    if not semantic:
        return AlignParams()
    try:
        return semantic_params()
    except (OSError, ValueError, KeyError):  # not fitted yet: nothing shipped to compare
        return AlignParams(
            weights=(0.0,) * (2 * len(feature_names(True))), threshold=0.5, semantic=True
        )


def _jaccard(s1: str, s2: str) -> float:
    a, b = set(words(s1)), set(words(s2))
    return len(a & b) / len(a | b) if a | b else 0.0


__all__ = ["FEATURES", "Metrics", "Pair", "Report", "evaluate", "fit", "load"]
