"""The synthetic corpus: reproducible, ~600-word articles, consistent truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.synth import EDITS, generate, load_material, main, truth
from shingling import PipelineConfig, Thresholds, compare
from shingling.shingles import shingle

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    a = [x.body() for x in generate(60, seed=3)]
    b = [x.body() for x in generate(60, seed=3)]
    c = [x.body() for x in generate(60, seed=4)]
    assert a == b
    assert [x["text"] for x in a] != [x["text"] for x in c]


def test_articles_are_news_length_with_contract_fields() -> None:
    articles = list(generate(200, seed=1))
    assert len(articles) == 200
    assert len({a.id for a in articles}) == 200
    words = [len(a.text.split()) for a in articles]
    assert 450 <= sum(words) / len(words) <= 750
    assert set(articles[0].body()) == {"id", "text", "published_at", "source"}


def test_truth_partitions_ids_and_pairs_stay_in_families() -> None:
    articles = list(generate(300, seed=2))
    t = truth(articles)
    members = [i for fam in t["families"] for i in fam]
    assert sorted(members) == sorted(a.id for a in articles)  # each id in exactly one family
    family_of = {i: n for n, fam in enumerate(t["families"]) for i in fam}
    kinds = set()
    for a, b, kind in t["pairs"]:
        assert family_of[a] == family_of[b]
        kinds.update(kind.split("+"))
    assert kinds <= {*EDITS, "sibling"}
    assert {"trim", "new_lede", "local", "copy_edit", "sibling"} <= kinds


def test_true_pairs_are_syndicated_and_topic_neighbours_are_not() -> None:
    config, thresholds = PipelineConfig(), Thresholds()
    articles = list(generate(150, seed=5))
    sh = {a.id: shingle(a.text, config) for a in articles}
    t = truth(articles)
    verdicts = [compare(sh[a], sh[b]).verdict(thresholds) for a, b, _ in t["pairs"]]
    assert all(v in ("duplicate", "syndicated") for v in verdicts)
    wires = [fam[0] for fam in t["families"]]
    neighbours = [compare(sh[a], sh[b]) for a, b in zip(wires, wires[1:], strict=False)]
    copies = [s for s in neighbours if s.verdict(thresholds) in ("duplicate", "syndicated")]
    assert len(copies) <= len(neighbours) // 20
    assert any(s.shared > 0 for s in neighbours)  # same-topic stories do share some text


def test_mrpc_style_tsv_material(tmp_path: Path) -> None:
    rows = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
    rows += [f"1\t{i}\t{i + 1}\tSentence number {i} about the budget vote.\t"
             f"Another sentence {i} on the council meeting today." for i in range(20)]  # fmt: skip
    path = tmp_path / "m.tsv"
    path.write_text("\n".join(rows), encoding="utf-8")
    assert len(load_material(path).sentences) == 40


def test_command_line_writes_articles_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    assert main(["--articles", "40", "--seed", "7", "--material", str(ROOT / "seeds"),
                 "--out", str(out)]) == 0  # fmt: skip
    lines = (out / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40
    ids = [json.loads(line)["id"] for line in lines]
    t = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert sorted(i for fam in t["families"] for i in fam) == sorted(ids)


def test_bad_material_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_material(tmp_path)
