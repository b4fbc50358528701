"""`copydesk align` and `copydesk eval mrpc|pan` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.devservers import RedisProcess
from service.model import ArticleIn
from service.storage.index import Index
from tests.conftest import SEEDS

runner = CliRunner()
A = SEEDS / "000_3a13d4dc9571d926.txt"
B = SEEDS / "001_d7f4fccf9dbf45e7.txt"


def test_align_files_side_by_side(tmp_path: Path) -> None:
    page = tmp_path / "view.html"
    r = runner.invoke(app, ["align", str(A), str(B), "--html", str(page)], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    assert "A-4" in r.output and "B-3" in r.output
    assert "copied" in r.output and "added" in r.output
    html = page.read_text(encoding="utf-8")
    assert 'class="s copied"' in html and "000_3a13d4dc9571d926.txt" in html


def test_align_json() -> None:
    r = runner.invoke(app, ["align", str(A), str(B), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert set(body["summary"]) >= {"copied", "paraphrased", "added", "omitted", "rewritten"}
    assert body["summary"]["added"] == sum(s["label"] == "added" for s in body["b"])
    assert all({"diff", "quote", "match"} <= set(s) for s in body["a"])


def test_align_stored_ids(redis_server: RedisProcess, index: Index) -> None:
    index.put(ArticleIn(text=A.read_text(encoding="utf-8"), id="ani", title="ANI copy"))
    r = runner.invoke(app, ["align", "ani", str(B), "--json", "--redis-url", redis_server.url])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["summary"]["copied"] >= 4
    missing = runner.invoke(app, ["align", "no-such-id", str(B), "--redis-url", redis_server.url])
    assert missing.exit_code == 2
    assert "no-such-id" in missing.output


def test_eval_mrpc_and_pan_report_bad_paths(tmp_path: Path) -> None:
    r = runner.invoke(app, ["eval", "mrpc", str(tmp_path / "missing.tsv")])
    assert r.exit_code == 2 and "error" in r.output
    r = runner.invoke(app, ["eval", "pan", str(tmp_path)])
    assert r.exit_code == 2 and "not a PAN 2013 corpus" in r.output


def test_eval_pan_on_mini_corpus(tmp_path: Path) -> None:
    from tests.service.evaluation.test_pan import write_corpus

    write_corpus(tmp_path)
    r = runner.invoke(app, ["eval", "pan", str(tmp_path), "--limit", "5", "--first"])
    assert r.exit_code == 0, r.output
    assert "| none | 2 | 1.000 |" in r.output
    assert "| 02-no-obfuscation | 1/1 |" in r.output


def test_align_over_the_sentence_limit_exits_2_saying_why(tmp_path: Path) -> None:
    long = tmp_path / "long.txt"
    short = tmp_path / "short.txt"
    long.write_text(" ".join(f"Sentence {k} of the long file." for k in range(4)), encoding="utf-8")
    short.write_text("One sentence. And another.", encoding="utf-8")
    env = {"COPYDESK_MAX_ALIGN_SENTENCES": "3"}
    r = runner.invoke(app, ["align", str(short), str(long)], env=env)
    assert r.exit_code == 2, r.output
    assert "text b has 4 sentences; the limit is 3" in r.output
    assert "COPYDESK_MAX_ALIGN_SENTENCES" in r.output


def test_align_semantic_flag_and_setting_reach_the_aligner(tmp_path: Path) -> None:
    from tests.service.api.routes.test_alignments import STORM_A, STORM_B

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(STORM_A, encoding="utf-8")
    b.write_text(STORM_B, encoding="utf-8")

    def first_label(*args: str, env: dict[str, str] | None = None) -> str:
        r = runner.invoke(app, ["align", str(a), str(b), "--json", *args], env=env)
        assert r.exit_code == 0, r.output
        return str(json.loads(r.output)["b"][0]["label"])

    assert first_label() == "paraphrased"  # semantic by default
    assert first_label("--lexical") == "added"
    assert first_label(env={"COPYDESK_SEMANTIC": "0"}) == "added"
    assert first_label("--semantic", env={"COPYDESK_SEMANTIC": "0"}) == "paraphrased"


def test_eval_pan_model_from_the_setting_and_fold(tmp_path: Path) -> None:
    from tests.service.evaluation.test_pan import write_corpus

    write_corpus(tmp_path)
    args = ["eval", "pan", str(tmp_path), "--limit", "5", "--first"]
    r = runner.invoke(app, args, env={"COPYDESK_SEMANTIC": "true"})
    assert r.exit_code == 0, r.output
    assert "### Pair model: semantic" in r.output
    r = runner.invoke(app, [*args, "--lexical", "--fold", "odd"], env={"COPYDESK_SEMANTIC": "1"})
    assert r.exit_code == 0, r.output
    assert "### Pair model: lexical" in r.output and "number is odd" in r.output
    bad = runner.invoke(app, [*args, "--fold", "third"])
    assert bad.exit_code == 2 and "--fold" in bad.output
