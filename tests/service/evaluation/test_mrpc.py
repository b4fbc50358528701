"""MRPC evaluation on a tiny TSV the test writes itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluation import mrpc
from shingling.align import AlignParams

SUBJECTS = [
    "The council",
    "Shares of Acme",
    "The senator",
    "Police",
    "The central bank",
    "Rescue teams",
    "The airline",
    "Voters",
]
VERBS = [
    "approved the new budget on Tuesday",
    "fell 5 percent in early trading",
    "announced she would run again",
    "arrested two men after the robbery",
    "raised interest rates by half a point",
    "reached the village after the storm",
    "cancelled 40 flights because of fog",
    "rejected the proposal by a wide margin",
]


def write_tsv(path: Path, header: bool = True) -> None:
    rows = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"] if header else []
    for i, (s, v) in enumerate(zip(SUBJECTS, VERBS, strict=True)):
        a = f"{s} {v}, officials said."
        rows.append(f"1\t{i}\t{i + 100}\t{a}\tOfficials said {s.lower()} {v}.")
        other = VERBS[(i + 3) % len(VERBS)]
        rows.append(f"0\t{i}\t{i + 200}\t{a}\t{SUBJECTS[(i + 5) % 8]} {other} yesterday.")
    path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")


def test_load_skips_bom_and_header(tmp_path: Path) -> None:
    f = tmp_path / "mrpc.tsv"
    write_tsv(f)
    pairs = mrpc.load(f)
    assert len(pairs) == 16
    assert pairs[0].label == 1 and pairs[0].s1.startswith("The council approved")
    assert len(mrpc.load(f, limit=3)) == 3


def test_load_rejects_bad_label(tmp_path: Path) -> None:
    f = tmp_path / "bad.tsv"
    write_tsv(f, header=False)
    f.write_text(f.read_text(encoding="utf-8") + "yes\t1\t2\ta\tb\n", encoding="utf-8")
    with pytest.raises(ValueError, match="label must be 0 or 1"):
        mrpc.load(f)


def test_evaluate_separates_easy_pairs(tmp_path: Path) -> None:
    f = tmp_path / "mrpc.tsv"
    write_tsv(f)
    report = mrpc.evaluate(mrpc.load(f), folds=4)
    assert report.pairs == 16 and report.positives == 8
    assert report.cv.accuracy >= 0.85
    assert report.cv.roc_auc >= 0.9
    assert report.shipped.roc_auc >= 0.9  # the shipped constants get these right too
    assert len(report.fitted.weights) == len(AlignParams().weights)


def test_evaluate_needs_both_labels(tmp_path: Path) -> None:
    f = tmp_path / "pos.tsv"
    f.write_text("1\t1\t2\tA cat sat.\tA cat sat down.\n" * 12, encoding="utf-8")
    with pytest.raises(ValueError, match="each label"):
        mrpc.evaluate(mrpc.load(f), folds=3)


def test_semantic_model_is_cross_validated_and_saved_with_provenance(tmp_path: Path) -> None:
    from shingling.align import feature_names

    f = tmp_path / "mrpc.tsv"
    write_tsv(f)
    pairs = mrpc.load(f)
    report = mrpc.evaluate(pairs, folds=4, semantic=True)
    assert report.fitted.semantic
    assert len(report.fitted.weights) == 2 * len(feature_names(True))
    assert report.cv.roc_auc >= 0.9
    saved = mrpc.model_file(report.fitted, str(f), report.pairs, report)
    assert saved["features"] == list(feature_names(True))
    assert saved["cross_validated_accuracy"] == round(report.cv.accuracy, 4)
    assert f"C={report.fitted_c}" in saved["how"] and report.fitted_c in mrpc.C_GRID
