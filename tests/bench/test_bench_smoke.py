"""The harness end to end at a tiny size: outputs exist and are sane (no timing)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.__main__ import main


@pytest.mark.slow
def test_harness_smoke(tmp_path: Path) -> None:
    assert main(["all", "--size", "300", "--budget", "60", "--queries", "40",
                 "--signature-articles", "40", "--http-articles", "60",
                 "--retention-articles", "300", "--out", str(tmp_path)]) == 0  # fmt: skip
    result = json.loads((tmp_path / "300.json").read_text())
    table = (tmp_path / "300.md").read_text()
    assert "| figure | copydesk | datasketch |" in table
    assert result["machine"]["cores"] >= 1 and result["machine"]["redis"]
    sig = result["signatures"]
    assert sig["copydesk_per_s"] > 0 and sig["datasketch_update_per_s"] > 0
    assert result["ingest"]["articles"] == 300 and result["ingest"]["complete"]
    assert result["ingest"]["index_bytes"] > 0 and result["ingest"]["document_bytes"] > 0
    # Both sides of an article's cost are measured: the client's CPU and Redis's.
    assert result["ingest"]["client_cpu_ms_per_article"] > 0
    assert result["ingest"]["redis_script_ms_per_article"] > 0
    assert result["query"]["queries"] > 0 and result["query"]["recall"] >= 0.9
    # The path before passage fingerprints, in the same run: no fingerprint lists.
    assert result["bands_only_ingest"]["articles"] == 300
    assert result["bands_only_ingest"]["fingerprint_bytes"] == 0
    assert result["ingest"]["fingerprint_bytes"] > 0
    assert result["bands_only_query"]["queries"] == result["query"]["queries"]
    assert "| figure | with passages | bands only |" in table
    assert result["parallel"]["articles"] == 300 and result["parallel"]["workers"] == 2
    assert result["datasketch"]["articles"] == 300
    assert result["http"]["articles"] > 0 and result["http"]["failures"] == 0
    assert result["http"]["server_cpu_ms_per_request"] > 0
    assert result["http"]["client_cpu_ms_per_request"] > 0
    retention = result["retention"]
    assert retention["expired"] > 0 and retention["live_at_end"] < retention["ingested"]


@pytest.mark.slow
def test_kept_index_is_queried_again_with_the_same_findings(tmp_path: Path) -> None:
    kept, out = tmp_path / "kept", tmp_path / "out"
    assert main(["ingest", "--size", "300", "--budget", "60", "--queries", "30",
                 "--signature-articles", "30", "--keep-index", str(kept),
                 "--out", str(out)]) == 0  # fmt: skip
    first = json.loads((out / "300-ingest.json").read_text())
    assert (kept / "index.rdb").stat().st_size > 0
    assert main(["query", "--index", str(kept), "--queries", "30", "--budget", "60",
                 "--out", str(out)]) == 0  # fmt: skip
    again = json.loads((out / "300-query.json").read_text())
    assert again["restored"]["articles"] == first["ingest"]["articles"] == 300
    assert again["machine"]["floor_per_s"] > 0
    # On Linux, where CI runs.
    for part in ("redis_background", "other_processes", "hypervisor_steal"):
        assert 0 <= again["query"][f"busy_{part}_cores"] <= 2 * (os.cpu_count() or 1)
    for figure in ("queries", "true_pairs_expected", "recall", "false_positives_per_query"):
        assert again["query"][figure] == first["query"][figure], figure
    assert "restored into a fresh redis-server" in (out / "300-query.md").read_text()
    # The baseline over the same corpus and sample, then copydesk's queries, in one run;
    # the baseline kept, then restored and queried again instead of built.
    baseline = tmp_path / "baseline"
    assert main(["query", "--index", str(kept), "--queries", "30", "--budget", "60",
                 "--with-baseline", "--keep-baseline", str(baseline),
                 "--out", str(out)]) == 0  # fmt: skip
    both = json.loads((out / "300-query.json").read_text())
    assert both["datasketch"]["articles"] == 300 and both["datasketch"]["queries"] == 30
    assert both["query"]["recall"] == first["query"]["recall"]
    assert "| query p99 ms (analyse+lookup+verify+rank) |" in (out / "300-query.md").read_text()
    assert (baseline / "baseline.rdb").stat().st_size > 0
    assert main(["query", "--index", str(kept), "--queries", "30", "--budget", "60",
                 "--baseline-index", str(baseline), "--out", str(out)]) == 0  # fmt: skip
    again_both = json.loads((out / "300-query.json").read_text())
    restored = again_both["datasketch"]
    assert restored["restored"] == str(baseline) and restored["queries"] == 30
    assert restored["per_s"] == both["datasketch"]["per_s"]  # the build's figures, kept
    assert restored["lookup_p50_ms"] > 0
    assert "restored into a fresh redis-server: its build" in (out / "300-query.md").read_text()
    # Another material would regenerate another corpus: refused at its first article.
    other = tmp_path / "other"
    other.mkdir()
    sentences = (f"Council member {n} said the vote on the budget would wait." for n in range(40))
    (other / "a.txt").write_text(" ".join(sentences))
    with pytest.raises(SystemExit, match="--material the index was built with"):
        main(["query", "--index", str(kept), "--queries", "30", "--with-baseline",
              "--material", str(other), "--out", str(out)])  # fmt: skip


def test_query_without_a_saved_index_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--keep-index"):
        main(["query", "--index", str(tmp_path), "--out", str(tmp_path)])


def test_keep_index_needs_the_ingest_scenario(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="use it with 'ingest'"):
        main(["signatures", "--size", "300", "--keep-index", str(tmp_path), "--out", str(tmp_path)])


def test_with_baseline_belongs_to_the_query_scenario(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="go with 'query --index DIR'"):
        main(["ingest", "--size", "300", "--with-baseline", "--out", str(tmp_path)])


def test_a_saved_baseline_is_refused_for_another_corpus(tmp_path: Path) -> None:
    kept, other = tmp_path / "kept", tmp_path / "other"
    for directory, seed in ((kept, 1), (other, 2)):
        directory.mkdir()
        (directory / "index.rdb").write_bytes(b"")
        truth = {"size": 300, "seed": seed, "queries": 0, "family": {}, "sample": []}
        (directory / "corpus.json").write_text(json.dumps(truth))
    (other / "baseline.rdb").write_bytes(b"")
    facts = {"size": 300, "seed": 2, "built": {"articles": 300}}
    (other / "baseline.json").write_text(json.dumps(facts))
    refused = r"another corpus or settings \(seed: saved 2, this run 1"
    with pytest.raises(SystemExit, match=refused):
        main(["query", "--index", str(kept), "--baseline-index", str(other)])
    with pytest.raises(SystemExit, match="--keep-baseline"):
        main(["query", "--index", str(kept), "--baseline-index", str(kept)])


def test_baseline_options_go_together(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="give both"):
        main(["query", "--index", str(tmp_path), "--keep-baseline", str(tmp_path)])
    with pytest.raises(SystemExit, match="give one"):
        main(["query", "--index", str(tmp_path), "--with-baseline",
              "--baseline-index", str(tmp_path)])  # fmt: skip
    with pytest.raises(SystemExit, match="go with 'query --index DIR'"):
        main(["ingest", "--size", "300", "--baseline-index", str(tmp_path)])


@pytest.mark.slow
def test_a_wider_window_stores_fewer_postings(tmp_path: Path) -> None:
    # --winnow and --max-located measure the lean profiles an operator can
    # choose (COPYDESK_WINNOW, COPYDESK_MAX_LOCATED).
    runs = {}
    for w, located in ((8, 10), (24, 0)):
        out = tmp_path / str(w)
        assert main(["passages", "--size", "300", "--budget", "60", "--queries", "20",
                     "--signature-articles", "20", "--winnow", str(w),
                     "--max-located", str(located), "--out", str(out)]) == 0  # fmt: skip
        runs[w] = json.loads((out / "300-passages.json").read_text())
        assert (runs[w]["winnow"], runs[w]["max_located"]) == (w, located)
        shown = f"winnowing window {w}, {located} matches located"
        assert shown in (out / "300-passages.md").read_text()
    # About 2 / (w + 1) of the shingles: a third as many postings at 24 as at 8.
    dense, lean = (runs[w]["ingest"]["fingerprint_bytes"] for w in (8, 24))
    assert 0 < lean < 0.6 * dense
    assert runs[24]["bands_only_ingest"]["fingerprint_bytes"] == 0
