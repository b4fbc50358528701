"""service.evaluation.families: ARI and pair scores, file formats, PAN pair level."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from service.cli import app
from service.evaluation.families import (
    compare_clusterings,
    evaluate_pan,
    load_clusters,
    score_labels,
)
from shingling import PipelineConfig, Thresholds

runner = CliRunner()


def test_perfect_prediction() -> None:
    truth = np.array([0, 0, 1, 1, 2])
    s = score_labels(np.array([5, 5, 7, 7, 9]), truth)
    assert s == {"ari": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_pair_scores_by_hand() -> None:
    # truth: {a,b,c} {d}; predicted: {a,b} {c,d}
    s = score_labels(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    # predicted pairs ab, cd; true pairs ab, ac, bc; shared: ab
    assert s["precision"] == pytest.approx(1 / 2)
    assert s["recall"] == pytest.approx(1 / 3)
    assert s["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert s["ari"] < 0.5


def test_all_singletons_have_no_recall() -> None:
    s = score_labels(np.arange(4), np.array([0, 0, 1, 1]))
    assert s["recall"] == 0.0 and s["precision"] == 1.0 and s["f1"] == 0.0


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="predicted labels"):
        score_labels(np.arange(3), np.arange(4))


def _write(tmp_path: Path) -> tuple[Path, Path, Path]:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"families": [["a", "b", "c"], ["d"], ["e", "f"]]}))
    pred = tmp_path / "pred.json"
    pred.write_text(
        json.dumps(
            {
                "clusters": [
                    {"cluster_id": "c1", "origin": "a", "members": ["a", "b"]},
                    {"cluster_id": "c2", "origin": "e", "members": ["e", "f"]},
                ]
            }
        )
    )
    pred_csv = tmp_path / "pred.csv"
    pred_csv.write_text("cluster_id,origin,id\nc1,a,a\nc1,a,b\nc2,e,e\nc2,e,f\n")
    return truth, pred, pred_csv


def test_formats_load_to_the_same_groups(tmp_path: Path) -> None:
    truth, pred, pred_csv = _write(tmp_path)
    assert load_clusters(truth)["c"] == load_clusters(truth)["a"] != load_clusters(truth)["d"]
    as_json, as_csv = load_clusters(pred), load_clusters(pred_csv)
    assert set(as_json) == set(as_csv) == {"a", "b", "e", "f"}
    assert (as_json["a"] == as_json["b"]) and (as_csv["a"] == as_csv["b"])


def test_missing_ids_count_as_singletons(tmp_path: Path) -> None:
    truth, pred, _ = _write(tmp_path)
    s = compare_clusterings(load_clusters(pred), load_clusters(truth))
    # predicted pairs ab, ef; true pairs ab ac bc ef
    assert s["precision"] == 1.0 and s["recall"] == pytest.approx(0.5)
    assert s["articles"] == 6 and s["predicted_clusters"] == 2 and s["true_families"] == 2


def test_bad_files_are_refused(tmp_path: Path) -> None:
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps({"families": [["a"], ["a", "b"]]}))
    with pytest.raises(ValueError, match="more than one group"):
        load_clusters(dup)
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected"):
        load_clusters(other)


def test_eval_clusters_command(tmp_path: Path) -> None:
    truth, pred, pred_csv = _write(tmp_path)
    for p in (pred, pred_csv):
        res = runner.invoke(app, ["eval", "clusters", str(p), str(truth)])
        assert res.exit_code == 0, res.output
        scores = json.loads(res.stdout[res.stdout.index("{") :])
        assert scores["recall"] == pytest.approx(0.5) and scores["precision"] == 1.0


# -- PAN layout, written here --------------------------------------------------------
def _text(rng: random.Random, n: int) -> str:
    words = [f"w{rng.randrange(20_000)}" for _ in range(n)]
    return ". ".join(" ".join(words[i : i + 12]) for i in range(0, n, 12)) + "."


def _pan(tmp_path: Path) -> Path:
    rng = random.Random(5)
    root = tmp_path / "pan"
    for d in (
        "src",
        "susp",
        "01-no-plagiarism",
        "02-no-obfuscation",
        "03-random-obfuscation",
        "04-translation-obfuscation",
        "05-summary-obfuscation",
    ):
        (root / d).mkdir(parents=True)

    def pair(subset: str, n: int, susp: str, src: str, obfuscation: str | None) -> None:
        (root / "susp" / f"suspicious-document{n:05d}.txt").write_text(susp)
        (root / "src" / f"source-document{n:05d}.txt").write_text(src)
        feature = (
            f'<feature name="plagiarism" obfuscation="{obfuscation}" this_offset="0" '
            f'this_length="{len(susp)}" source_offset="0" source_length="{len(src)}" '
            f'source_reference="source-document{n:05d}.txt" />'
            if obfuscation
            else ""
        )
        (root / subset / f"suspicious-document{n:05d}-source-document{n:05d}.xml").write_text(
            f'<document reference="suspicious-document{n:05d}.txt">{feature}</document>'
        )

    for n in range(1, 4):  # verbatim reuse of most of the source
        src = _text(rng, 400)
        pair("02-no-obfuscation", n, _text(rng, 100) + " " + src[: len(src) * 3 // 4], src, "none")
    for n in range(11, 14):  # unrelated
        pair("01-no-plagiarism", n, _text(rng, 300), _text(rng, 300), None)
    return root


def test_evaluate_pan_pair_level(tmp_path: Path) -> None:
    report = evaluate_pan(_pan(tmp_path), PipelineConfig(), Thresholds())
    data = report.to_dict()
    assert data["documents"] == 12
    assert data["subsets"]["02-no-obfuscation"]["together"] == 3
    assert data["subsets"]["01-no-plagiarism"]["apart"] == 3
    assert report.rate("01-no-plagiarism", "together") == 0.0


def test_eval_pan_clusters_command(tmp_path: Path) -> None:
    res = runner.invoke(app, ["eval", "pan-clusters", str(_pan(tmp_path)), "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout[res.stdout.index("{") :])
    assert data["subsets"]["02-no-obfuscation"]["flagged_rate"] == 1.0
    bad = runner.invoke(app, ["eval", "pan-clusters", str(tmp_path), "-q"])
    assert bad.exit_code == 2 and "not a PAN" in bad.output
