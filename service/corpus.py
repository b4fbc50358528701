"""Reading articles from disk: text files, HTML files, folders and JSONL.

- ``*.txt`` (and any other file): the file is the article text, its name
  without the extension is the id.
- ``*.html`` / ``*.htm``: the article is extracted from the page.
- ``*.jsonl``: one ``POST /articles`` body per line.
- a folder: every such file under it, in sorted order.

Metadata of text and HTML files (title, source, url, published_at, or an id
other than the file name) comes from a sidecar ``meta.json`` in the same
folder: ``{"file name": {"title": ..., "source": ..., "published_at": ...}}``.
The files stay as they are, byte for byte: metadata never becomes part of the
article text, so shingles and text offsets are the file's own. ``seeds/``
ships one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from service.intake import ArticleBody

_SKIP_SUFFIXES = {".md", ".py", ".pyc", ".json", ".csv", ".gz", ".zip"}
#: The sidecar of a folder's text and HTML files (see the module docstring).
META_FILE = "meta.json"
_META_FIELDS = ("id", "title", "source", "url", "published_at")


@dataclass(frozen=True)
class Item:
    where: str  # file, or file:line, for messages
    body: ArticleBody


@dataclass(frozen=True)
class BadRecord:
    where: str
    message: str


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                wanted = child.suffix.lower() not in _SKIP_SUFFIXES
                if child.is_file() and wanted and not child.name.startswith("."):
                    yield child
        else:
            yield path


def _safe_id(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._:@~+=-" else "_" for c in stem)
    return cleaned[:200] or "article"


def _body(where: str, data: dict[str, object]) -> Item | BadRecord:
    try:
        return Item(where, ArticleBody.model_validate(data))
    except ValidationError as exc:
        msg = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'body'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        return BadRecord(where, msg)


def _load_meta(folder: Path) -> tuple[dict[str, dict[str, object]], BadRecord | None]:
    """The sidecar of ``folder`` by file name (empty when there is none)."""
    meta = folder / META_FILE
    if not meta.is_file():
        return {}, None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, BadRecord(str(meta), f"metadata not read, not valid JSON: {exc}")
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return {}, BadRecord(
            str(meta),
            'metadata not read: expected {"file name": {"title": ..., "source": ..., '
            '"published_at": ...}, ...}',
        )
    bad = sorted({k for v in data.values() for k in v} - set(_META_FIELDS))
    if bad:
        return {}, BadRecord(
            str(meta), f"metadata not read: unknown fields {bad}; known: {list(_META_FIELDS)}"
        )
    return data, None


def read_articles(paths: Iterable[Path]) -> Iterator[Item | BadRecord]:
    """Every article under ``paths``, or a ``BadRecord`` naming what to fix."""
    sidecars: dict[Path, dict[str, dict[str, object]]] = {}
    for path in _files(paths):
        if path.parent not in sidecars:
            sidecars[path.parent], problem = _load_meta(path.parent)
            if problem is not None:
                yield problem
        meta = sidecars[path.parent].get(path.name, {})
        where = str(path)
        if not path.exists():
            yield BadRecord(where, "no such file or folder")
            continue
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            yield BadRecord(where, f"cannot read as UTF-8 text: {exc}")
            continue
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            for lineno, line in enumerate(raw.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield BadRecord(f"{where}:{lineno}", f"not valid JSON: {exc}")
                    continue
                if not isinstance(data, dict):
                    yield BadRecord(f"{where}:{lineno}", "each line must be a JSON object")
                    continue
                yield _body(f"{where}:{lineno}", data)
        elif suffix in (".html", ".htm"):
            yield _body(where, {"id": _safe_id(path.stem), **meta, "html": raw})
        else:
            yield _body(where, {"id": _safe_id(path.stem), **meta, "text": raw})


def count_inputs(paths: Iterable[Path]) -> int:
    """How many articles ``read_articles`` will yield (lines of JSONL included)."""
    total = 0
    for path in _files(paths):
        if path.suffix.lower() == ".jsonl" and path.exists():
            with path.open("rb") as fh:
                total += sum(1 for line in fh if line.strip())
        else:
            total += 1
    return total
