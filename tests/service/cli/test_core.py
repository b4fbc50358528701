"""ingest, match and demo through the Typer app, against a real Redis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.conftest import SEEDS, RedisProcess

runner = CliRunner()


@pytest.fixture
def url(redis_server: RedisProcess, redis_client) -> str:  # type: ignore[no-untyped-def]
    return redis_server.url


def test_ingest_is_idempotent(url: str) -> None:
    first = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q"])
    assert first.exit_code == 0, first.output
    assert "created 5" in first.output
    again = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q"])
    assert "created 0, replaced 0, unchanged 5" in again.output


def test_ingest_with_worker_processes_matches_like_inline(url: str) -> None:
    res = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q", "--workers", "2"])
    assert res.exit_code == 0, res.output
    assert "created 5" in res.output
    res = runner.invoke(app, ["match", str(next(SEEDS.glob("000_*.txt"))), "--redis-url", url])
    assert "syndicated" in res.output
    bad = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "--workers", "0"])
    assert bad.exit_code == 2 and "workers" in bad.output


def test_ingest_jsonl_reports_bad_lines(url: str, tmp_path: Path) -> None:
    f = tmp_path / "batch.jsonl"
    f.write_text(
        json.dumps({"id": "j1", "text": "A wire story with some words in it.", "source": "W"})
        + "\n{not json\n"
        + json.dumps({"id": "j2", "text": ""})
        + "\n"
    )
    res = runner.invoke(app, ["ingest", str(f), "--redis-url", url, "-q"])
    assert res.exit_code == 1
    assert "created 1" in res.output and "rejected 2" in res.output
    assert "batch.jsonl:2" in res.output and "batch.jsonl:3" in res.output


def test_match_json(url: str) -> None:
    runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q"])
    f = next(SEEDS.glob("001_*.txt"))
    res = runner.invoke(app, ["match", str(f), "--redis-url", url, "--json"])
    assert res.exit_code == 0, res.output
    matches = json.loads(res.output)["matches"]
    ids = [m["id"] for m in matches]
    assert ids[0] == f.stem  # the same file is in the index: duplicate first
    assert matches[0]["verdict"] == "duplicate"
    assert matches[1]["id"].startswith("000_") and matches[1]["verdict"] == "syndicated"
    # Where the copy is, as the API names it, and how much of each text it is.
    assert "number" not in matches[1]
    assert matches[1]["passages"] and set(matches[1]["passages"][0]) == {
        "query_start", "query_end", "match_start", "match_end", "words",
    }  # fmt: skip
    assert 0.3 < matches[1]["query_share"] < 0.6 and matches[0]["query_share"] == 1.0


def test_match_table(url: str) -> None:
    runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q"])
    res = runner.invoke(app, ["match", str(next(SEEDS.glob("000_*.txt"))), "--redis-url", url])
    assert res.exit_code == 0 and "syndicated" in res.output
    assert "shared" in res.output and "%/" in res.output


def test_unreachable_redis_is_a_clear_error() -> None:
    res = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", "redis://127.0.0.1:1/0"])
    assert res.exit_code == 2
    assert "unreachable" in res.output


def test_demo(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", str(SEEDS), "--data-dir", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    found = json.loads(res.output)
    strong = {k: [m["id"][:3] for m in v] for k, v in found.items() if v}
    assert {k[:3]: v for k, v in strong.items()} == {"000": ["001"], "001": ["000"]}
