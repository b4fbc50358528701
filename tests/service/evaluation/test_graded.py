"""service.evaluation.graded: graded-reuse families cut from PAN-layout cases."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.evaluation.graded import evaluate_graded, graded_items
from shingling import PipelineConfig, Thresholds
from shingling.align import AlignParams
from tests.conftest import reword

runner = CliRunner()


def _corpus(tmp_path: Path, seeds: dict[str, str]) -> Path:
    """A verbatim case (000 inside a longer page), a reworded one (003's
    rewrite), an independent pair (002 and 004, reports of 000's event), in
    the PAN 2013 layout."""
    root = tmp_path / "pan"
    for d in ("src", "susp", "01-no-plagiarism", "02-no-obfuscation", "03-random-obfuscation",
              "05-summary-obfuscation"):  # fmt: skip
        (root / d).mkdir(parents=True)
    page = seeds["001"][:800] + "\n\n"

    def pair(subset: str, n: int, susp: str, src: str, case: tuple[int, int] | None) -> None:
        (root / "susp" / f"suspicious-document{n:05d}.txt").write_text(susp)
        (root / "src" / f"source-document{n:05d}.txt").write_text(src)
        feature = (
            f'<feature name="plagiarism" obfuscation="x" this_offset="{case[0]}" '
            f'this_length="{case[1]}" source_offset="0" source_length="{len(src)}" />'
            if case
            else ""
        )
        (root / subset / f"suspicious-document{n:05d}-source-document{n:05d}.xml").write_text(
            f"<document>{feature}</document>"
        )

    pair("02-no-obfuscation", 2, page + seeds["000"], seeds["000"], (len(page), len(seeds["000"])))
    rewrite = reword(seeds["003"])
    pair("05-summary-obfuscation", 4, rewrite, seeds["003"], (0, len(rewrite)))
    pair("01-no-plagiarism", 6, seeds["002"], seeds["004"], None)
    return root


def test_items_are_the_cases_passages_and_independent_windows(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    items = graded_items(_corpus(tmp_path, seed_texts))
    by_subset = {i.subset: [] for i in items}
    for i in items:
        by_subset[i.subset].append(i)
    verbatim = by_subset["02-no-obfuscation"]
    assert [i.text for i in verbatim] == [seed_texts["000"], seed_texts["000"]]  # the case's spans
    assert verbatim[0].family == verbatim[1].family >= 0
    assert [i.family for i in by_subset["01-no-plagiarism"]] == [-1, -1]
    assert graded_items(_corpus(tmp_path / "b", seed_texts), fold="odd") == []  # all even


def test_rewritten_links_keep_the_reworded_family_together(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    items = graded_items(_corpus(tmp_path, seed_texts))
    plain = evaluate_graded(items, PipelineConfig(), Thresholds())
    assert plain.together["02-no-obfuscation"]["together"] == 1
    assert plain.together["05-summary-obfuscation"]["together"] == 0
    linked = evaluate_graded(items, PipelineConfig(), Thresholds(), rewritten=AlignParams())
    assert linked.together["05-summary-obfuscation"]["together"] == 1
    assert linked.together["01-no-plagiarism"]["linked"] == 0
    assert linked.scores["ari"] == 1.0 > plain.scores["ari"]


def test_eval_graded_command(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    root = _corpus(tmp_path, seed_texts)
    res = runner.invoke(app, ["eval", "graded", str(root), "--rewritten", "lexical"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout[res.stdout.index("{") :])
    assert data["scores"]["ari"] == 1.0 and data["stats"]["rewritten"]["linked"] == 1
    bad = runner.invoke(app, ["eval", "graded", str(root), "--fold", "third"])
    assert bad.exit_code == 2 and "--fold" in bad.output
