"""copydesk cluster (over files and over the index) through the Typer app."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.devservers import RedisProcess
from service.jobs.store import JobStore
from service.model import ArticleIn
from service.storage.index import Index
from service.storage.keys import Keys
from tests.conftest import SEEDS, reword

runner = CliRunner()
SEED_PAIR = ["000_3a13d4dc9571d926", "001_d7f4fccf9dbf45e7"]


@pytest.fixture
def url(redis_server: RedisProcess, redis_client) -> str:  # type: ignore[no-untyped-def]
    return redis_server.url


def test_corpus_of_seed_files_gives_one_cluster(tmp_path: Path) -> None:
    out = tmp_path / "clusters.json"
    res = runner.invoke(app, ["cluster", "--corpus", str(SEEDS), "-q", "--output", str(out)])
    assert res.exit_code == 0, res.output
    clusters = json.loads(out.read_text())["clusters"]
    assert [c["members"] for c in clusters] == [SEED_PAIR]
    # 000 is the ANI story (seeds/meta.json), 001 an outlet's copy of it.
    assert clusters[0]["origin"] == SEED_PAIR[0]
    assert clusters[0]["origin_reason"].startswith("wire source (ANI)")
    # The families table on stderr says the same, ids whole (not a TTY: plain lines).
    assert f"{SEED_PAIR[0]}\t2\twire source (ANI)" in res.stderr


def test_rewritten_links_a_reworded_file_and_need_exact_verification(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for p in SEEDS.glob("*.txt"):
        (src / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (src / "005_rewrite.txt").write_text(reword((SEEDS / f"{SEED_PAIR[0]}.txt").read_text()))
    plain = runner.invoke(app, ["cluster", "--corpus", str(src), "-q"])
    assert json.loads(plain.stdout)["clusters"][0]["members"] == SEED_PAIR
    res = runner.invoke(app, ["cluster", "--corpus", str(src), "-q", "--rewritten"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["clusters"][0]["members"] == [*SEED_PAIR, "005_rewrite"]
    bad = runner.invoke(
        app, ["cluster", "--corpus", str(src), "--rewritten", "--verify", "estimate"]
    )
    assert bad.exit_code == 2 and "exact verification" in bad.output


def test_wire_sources_setting_changes_the_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPYDESK_WIRE_SOURCES", "")  # no agency is preferred
    out = tmp_path / "clusters.json"
    res = runner.invoke(app, ["cluster", "--corpus", str(SEEDS), "-q", "--output", str(out)])
    assert res.exit_code == 0, res.output
    (cluster,) = json.loads(out.read_text())["clusters"]
    assert cluster["origin"] == SEED_PAIR[0]  # by text: the fuller of the two
    assert cluster["origin_reason"].startswith("tied on shared text: the fuller one")


def test_corpus_origin_is_an_undated_wire_story_not_a_later_dated_rework(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    lines = [
        {"id": "wire", "text": seed_texts["000"], "source": "ANI"},
        {"id": "rework", "text": seed_texts["001"], "published_at": "2024-11-01T09:00:00Z"},
    ]
    src = tmp_path / "batch.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = runner.invoke(app, ["cluster", "--corpus", str(src), "-q", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(res.stdout.splitlines()))
    assert {r["origin"] for r in rows} == {"wire"}
    assert all(r["origin_reason"].startswith("wire source (ANI)") for r in rows)


def test_corpus_jsonl_uses_published_at_for_the_origin_and_writes_csv(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    lines = [
        {"id": "late", "text": seed_texts["000"], "published_at": "2024-03-02T10:00:00Z"},
        {"id": "early", "text": seed_texts["001"], "published_at": "2024-03-01T09:00:00Z"},
        {"id": "other", "text": seed_texts["003"], "published_at": "2024-02-01T09:00:00Z"},
    ]
    src = tmp_path / "batch.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = runner.invoke(app, ["cluster", "--corpus", str(src), "-q", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(res.stdout.splitlines()))
    assert {r["id"] for r in rows} == {"late", "early"}
    assert {r["origin"] for r in rows} == {"early"}
    assert len({r["cluster_id"] for r in rows}) == 1


def test_articles_without_ids_get_the_ids_the_index_would_give_them(
    tmp_path: Path, seed_texts: dict[str, str], index: Index
) -> None:
    texts = [seed_texts["000"], seed_texts["001"]]
    src = tmp_path / "no-ids.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    res = runner.invoke(app, ["cluster", "--corpus", str(src), "-q", "--format", "csv"])
    assert res.exit_code == 0, res.output
    clustered = {r["id"] for r in csv.DictReader(res.stdout.splitlines())}
    indexed = {index.put(ArticleIn(text=t)).id for t in texts}
    assert clustered == indexed and len(indexed) == 2


def test_estimate_verification_agrees_on_the_seeds(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    res = runner.invoke(
        app, ["cluster", "--corpus", str(SEEDS), "-q", "--verify", "estimate", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert [c["members"] for c in json.loads(out.read_text())["clusters"]] == [SEED_PAIR]


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["cluster", "--corpus", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_cluster_over_the_index_records_a_job(url: str, redis_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q"])
    assert ingest.exit_code == 0, ingest.output
    out = tmp_path / "clusters.json"
    res = runner.invoke(app, ["cluster", "--redis-url", url, "-q", "-o", str(out)])
    assert res.exit_code == 0, res.output
    clusters = json.loads(out.read_text())["clusters"]
    assert [c["members"] for c in clusters] == [SEED_PAIR]
    # The source ingested from seeds/meta.json, read back from Redis by the job.
    assert clusters[0]["origin"] == SEED_PAIR[0]
    assert clusters[0]["origin_reason"].startswith("wire source (ANI)")
    jobs = JobStore(redis_client, Keys("default")).recent()
    assert [j.status for j in jobs] == ["done"]
    assert jobs[0].summary["clusters"] == 1


def test_cluster_over_an_empty_index(url: str, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    res = runner.invoke(
        app, ["cluster", "--redis-url", url, "-q", "--format", "csv", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines() == ["cluster_id,origin,id,origin_reason"]
