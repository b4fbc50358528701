"""service.corpus: reading articles from files and folders, and naming what to fix."""

from __future__ import annotations

import json
from pathlib import Path

from service.corpus import BadRecord, Item, count_inputs, read_articles

TEXT = "The council approved the new budget on Tuesday after a long debate."


def _read(*paths: Path) -> list[Item | BadRecord]:
    return list(read_articles(paths))


def test_a_folder_of_text_files_with_a_sidecar(tmp_path: Path) -> None:
    (tmp_path / "one story.txt").write_text(TEXT)
    (tmp_path / "two.txt").write_text(TEXT + " Again.")
    (tmp_path / "notes.md").write_text("skipped")
    (tmp_path / ".hidden").write_text("skipped")
    (tmp_path / "meta.json").write_text(json.dumps({"two.txt": {"title": "Second"}}))
    items = _read(tmp_path)
    assert all(isinstance(i, Item) for i in items)
    bodies = {i.body.id: i.body for i in items if isinstance(i, Item)}
    assert set(bodies) == {"one_story", "two"}
    assert bodies["two"].title == "Second" and bodies["one_story"].text == TEXT
    assert count_inputs([tmp_path]) == 2


def test_jsonl_lines_each_an_article_or_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": TEXT}) + "\n\n" + "{not json\n" + "[1]\n"
        + json.dumps({"id": "b"}) + "\n"
    )  # fmt: skip
    items = _read(path)
    assert isinstance(items[0], Item) and items[0].where == f"{path}:1"
    bad = [i for i in items if isinstance(i, BadRecord)]
    assert [b.where for b in bad] == [f"{path}:3", f"{path}:4", f"{path}:5"]
    assert "not valid JSON" in bad[0].message and "JSON object" in bad[1].message
    assert "text" in bad[2].message  # neither text nor html
    assert count_inputs([path]) == 4


def test_an_html_file_is_read_as_html(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(f"<p>{TEXT}</p>")
    (item,) = _read(tmp_path / "page.html")
    assert isinstance(item, Item) and item.body.html and item.body.text is None


def test_what_cannot_be_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    (tmp_path / "meta.json").write_text(json.dumps({"latin1.txt": {"author": "x"}}))
    items = _read(tmp_path, tmp_path / "missing.txt")
    messages = {Path(b.where).name: b.message for b in items if isinstance(b, BadRecord)}
    assert "unknown fields ['author']" in messages["meta.json"]
    assert "UTF-8" in messages["latin1.txt"]
    assert messages["missing.txt"] == "no such file or folder"
