"""Retrieval on a PAN-layout corpus the test writes itself: short passages of
long sources pasted into long suspicious documents (coverage ~3 %)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from service.cli import app
from service.evaluation import pan, retrieval

VOCAB = [f"w{i}" for i in range(8000)]


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(rng.choice(VOCAB, size=n))


def _xml(susp: str, feats: list[tuple[int, int]]) -> str:
    rows = "".join(
        f'<feature name="plagiarism" obfuscation="none" this_offset="{o}" this_length="{n}" '
        f'source_offset="0" source_length="{n}" source_reference="x.txt" />\n'
        for o, n in feats
    )
    return f'<document reference="{susp}.txt">\n{rows}</document>\n'


def write_corpus(root: Path, pairs: int = 8) -> None:
    rng = np.random.default_rng(0)
    for d in ("src", "susp", *pan.SUBSETS):
        (root / d).mkdir(parents=True)
    for i in range(1, 2 * pairs + 1):
        (root / "src" / f"source-document{i:05d}.txt").write_text(_words(rng, 1500))
    for i in range(1, pairs + 1):  # reuse: 60 words of source i inside 2,000 of its own
        source = (root / "src" / f"source-document{i:05d}.txt").read_text().split()
        passage = " ".join(source[500:560])
        own = _words(rng, 1000)
        text = f"{own}\n\n{passage}\n\n{_words(rng, 1000)}"
        name = f"suspicious-document{i:05d}"
        (root / "susp" / f"{name}.txt").write_text(text)
        feats = [(text.index(passage), len(passage))]
        (root / "02-no-obfuscation" / f"{name}-source-document{i:05d}.xml").write_text(
            _xml(name, feats)
        )
    for i in range(pairs + 1, 2 * pairs + 1):  # negatives: texts of their own
        name = f"suspicious-document{i:05d}"
        (root / "susp" / f"{name}.txt").write_text(_words(rng, 2000))
        (root / "01-no-plagiarism" / f"{name}-source-document{i:05d}.xml").write_text(
            _xml(name, [])
        )


def _run(root: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["eval", "retrieval", str(root), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_passages_are_found_where_the_bands_miss_them(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    found = _run(tmp_path)
    reuse = found["subsets"]["02-no-obfuscation"]
    assert reuse["pairs"] == 8 and reuse["found"] == 8
    assert found["coverage"]["02-no-obfuscation"]["<10%"]["pairs"] == 8
    assert found["subsets"]["01-no-plagiarism"]["found"] == 0
    bands = _run(tmp_path, "--bands-only")
    assert bands["subsets"]["02-no-obfuscation"]["found"] <= 2  # J ~0.02: P ~ 2.5 % a pair


def test_folds_split_the_pairs_by_the_suspicious_number(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    pairs = {f: retrieval.pairs_of(tmp_path, f) for f in ("all", "even", "odd")}  # type: ignore[arg-type]
    assert len(pairs["even"]) + len(pairs["odd"]) == len(pairs["all"]) == 16
    assert {p.susp for p in pairs["even"]}.isdisjoint({p.susp for p in pairs["odd"]})


def test_coverage_buckets() -> None:
    assert [retrieval.bucket(x) for x in (0.0, 0.03, 0.1, 0.29, 0.3, 1.0)] == [
        "<10%", "<10%", "10-30%", "10-30%", ">30%", ">30%",
    ]  # fmt: skip


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "retrieval", str(tmp_path)])
    assert result.exit_code == 2 and "not a PAN 2013 corpus" in result.output


def write_reworded_corpus(root: Path, seeds: dict[str, str]) -> None:
    """Seed 000 reworded (every fourth long word replaced) as the suspicious
    text of its source; seed 004 against 002, two reports of one event."""
    from tests.conftest import reword

    for d in ("src", "susp", *pan.SUBSETS):
        (root / d).mkdir(parents=True)
    for i, k in ((1, "000"), (2, "002"), (3, "003")):
        (root / "src" / f"source-document{i:05d}.txt").write_text(seeds[k])
    copy = reword(seeds["000"])
    (root / "susp" / "suspicious-document00001.txt").write_text(copy)
    (
        root / "03-random-obfuscation" / "suspicious-document00001-source-document00001.xml"
    ).write_text(_xml("suspicious-document00001", [(0, len(copy))]))
    (root / "susp" / "suspicious-document00003.txt").write_text(seeds["004"])
    (root / "01-no-plagiarism" / "suspicious-document00003-source-document00002.xml").write_text(
        _xml("suspicious-document00003", [])
    )


def test_rewritten_counts_the_reworded_copies_the_aligner_links(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    write_reworded_corpus(tmp_path, seed_texts)
    plain = _run(tmp_path)
    random = plain["subsets"]["03-random-obfuscation"]
    assert plain["rewritten"] is None and random["judged"] == 0
    assert random["verdicts"].get("syndicated", 0) == 0  # the shingles: partial at most
    judged = _run(tmp_path, "--rewritten", "--lexical")
    assert judged["rewritten"] == "lexical"
    random = judged["subsets"]["03-random-obfuscation"]
    assert random["verdicts"] == {"syndicated": 1}
    assert random["judged"] == random["linked"] == 1
    negative = judged["subsets"]["01-no-plagiarism"]
    assert negative["linked"] == 0
    assert not {"syndicated", "duplicate"} & set(negative["verdicts"])


def test_rewritten_markdown_has_the_aligner_columns(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    write_reworded_corpus(tmp_path, seed_texts)
    result = CliRunner().invoke(
        app, ["eval", "retrieval", str(tmp_path), "--rewritten", "--rewrite-pairs", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "rewritten=true (semantic pair model)" in result.stdout  # the default
    row = next(line for line in result.stdout.splitlines() if "03-random" in line)
    assert row.rstrip().endswith("| 1 | 1 |")
