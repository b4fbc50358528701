"""ingest, match and demo through the Typer app, against a real Redis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.devservers import RedisProcess
from tests.conftest import SEEDS, reword

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


def test_match_rewritten_judges_a_reworded_copy(url: str, tmp_path: Path) -> None:
    source = next(SEEDS.glob("000_*.txt"))
    runner.invoke(app, ["ingest", str(source), "--redis-url", url, "-q"])
    copy = tmp_path / "copy.txt"
    copy.write_text(reword(source.read_text(encoding="utf-8")), encoding="utf-8")
    args = ["match", str(copy), "--redis-url", url, "--json"]
    (plain,) = json.loads(runner.invoke(app, args).output)["matches"]
    assert (plain["verdict"], plain["rewrite"]) == ("partial", None)
    (judged,) = json.loads(runner.invoke(app, [*args, "--rewritten"]).output)["matches"]
    assert judged["verdict"] == "syndicated" and judged["rewrite"]["linked"]
    assert judged["rewrite"]["copy_side"] == "query"
    table = runner.invoke(app, ["match", str(copy), "--redis-url", url, "--rewritten"])
    assert table.exit_code == 0 and "rewrite" in table.output and "of query" in table.output


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


LONG = "wire-" + "x" * 120  # longer than 80 columns: rich would split or cut it


def test_match_table_keeps_long_ids_whole_when_not_a_tty(
    url: str, tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    src = tmp_path / "long.jsonl"
    lines = [{"id": LONG + "-a", "text": seed_texts["000"], "source": "ANI", "title": "t" * 90}]
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert runner.invoke(app, ["ingest", str(src), "--redis-url", url, "-q"]).exit_code == 0
    f = tmp_path / "copy.txt"
    f.write_text(seed_texts["001"])
    res = runner.invoke(app, ["match", str(f), "--redis-url", url])
    assert res.exit_code == 0, res.output
    # Plain tab-separated lines: the id whole on the row of its match.
    row = next(line for line in res.stdout.splitlines() if LONG in line)
    assert row.split("\t")[:3] == ["1", LONG + "-a", "syndicated"]
    assert "─" not in res.stdout and "│" not in res.stdout


def test_table_on_a_terminal_never_wraps_an_id() -> None:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    from service.cli.common import id_column, print_table

    table = Table()
    id_column(table, "id", [LONG])
    table.add_column("title")
    table.add_row(LONG, "a title that can wrap as much as it likes " * 3)
    for width in (200, 80):  # wide: a table; narrow: plain lines, never a cropped id
        out = StringIO()
        terminal = Console(file=out, force_terminal=True, width=width, color_system=None)
        print_table(table, terminal)
        assert sum(LONG in line for line in out.getvalue().splitlines()) == 1, out.getvalue()
        assert ("┃" in out.getvalue()) is (width == 200)


def test_ingest_reads_the_seeds_metadata(url: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    from service.settings import get_settings
    from service.storage.index import Index

    res = runner.invoke(app, ["ingest", str(SEEDS), "--redis-url", url, "-q"])
    assert res.exit_code == 0, res.output
    index = Index.from_settings(redis_client, get_settings(redis_url=url))
    wire = index.get("000_3a13d4dc9571d926")
    assert wire.source == "ANI" and wire.title.startswith("Blinken: some 10,000")
    assert wire.published_at is None  # the text states no date
    upi = index.get("003_ad48eea2a50b0cbd")
    assert upi.source == "UPI" and upi.published_at.startswith("2024-10-23T09:10:00")
    # The metadata is not part of the text: stored text is the file, byte for byte.
    assert wire.text == (next(SEEDS.glob("000_*.txt"))).read_text(encoding="utf-8")


def test_serving_line_is_a_sentence_not_a_dict(tmp_path: Path) -> None:
    from service.cli.core import ingested_line, serving_line
    from service.settings import get_settings

    counts = {"created": 4, "replaced": 0, "unchanged": 1, "rejected": 0}
    assert ingested_line(counts) == (
        "ingested 5 articles: 4 created, 0 replaced, 1 unchanged, 0 rejected"
    )
    line = serving_line(get_settings(data_dir=tmp_path), "127.0.0.1", 8000, 5)
    assert line == (
        "copydesk on http://127.0.0.1:8000 (API docs: http://127.0.0.1:8000/docs); "
        f"index 'default' on embedded Redis in {tmp_path}, 5 articles"
    )


def test_a_bad_sidecar_is_reported_and_the_texts_still_ingested(
    url: str, tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    (tmp_path / "a.txt").write_text(seed_texts["000"], encoding="utf-8")
    (tmp_path / "meta.json").write_text(json.dumps({"a.txt": {"author": "x"}}))
    res = runner.invoke(app, ["ingest", str(tmp_path), "--redis-url", url, "-q"])
    assert res.exit_code == 1  # something was rejected: the sidecar
    assert "meta.json: metadata not read: unknown fields ['author']" in res.output
    assert "created 1" in res.output
