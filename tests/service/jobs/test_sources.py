"""service.jobs.sources: a corpus read from files, and the index as a source."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from service.corpus import count_inputs
from service.jobs.sources import IndexSource, read_corpus
from service.jobs.store import JobParams
from service.model import ArticleIn
from service.storage.index import Index
from shingling import PipelineConfig, analyse


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    return path


def test_read_corpus_keeps_what_the_index_would_store_and_says_what_it_skipped(
    tmp_path: Path, seed_texts: dict[str, str]
) -> None:
    src = _jsonl(
        tmp_path / "batch.jsonl",
        [
            {"id": "a", "text": seed_texts["000"], "source": "ANI",
             "published_at": "2024-03-01T09:00:00Z"},
            {"id": "b", "text": seed_texts["001"]},
            {"id": "a", "text": seed_texts["002"]},  # the same id again
            {"id": "c", "text": "  ...  !!  "},  # no words
        ],
    )  # fmt: skip
    config = PipelineConfig()
    skipped: list[tuple[str, str]] = []
    seen: list[float] = []
    corpus = read_corpus(
        [src],
        config,
        max_text_chars=1_000_000,
        keep_shingles=True,
        total=count_inputs([src]),
        skipped=lambda where, why: skipped.append((where, why)),
        progress=seen.append,
    )
    assert corpus.ids == ["a", "b"]
    assert np.array_equal(corpus.sigs[0], analyse(seed_texts["000"], config).signature)
    assert corpus.published[0] == datetime(2024, 3, 1, 9, tzinfo=UTC).timestamp()
    assert np.isnan(corpus.published[1])
    assert corpus.sources == ["ANI", None]
    assert corpus.shingles is not None and len(corpus.shingles) == 2
    assert corpus.fingerprints is not None and len(corpus.fingerprints[0]) > 0
    whys = [why for _, why in skipped]
    assert len(whys) == 3 and "already read" in whys[0] and whys[1] == "no words"
    assert seen and seen[-1] == 1.0
    lean = read_corpus([src], config, max_text_chars=1_000_000, keep_shingles=False, total=5)
    assert lean.shingles is None and lean.ids == corpus.ids


def test_an_index_source_reads_rows_dates_and_sets(
    index: Index, seed_texts: dict[str, str]
) -> None:
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    index.put(ArticleIn(text=seed_texts["000"], id="000", source="ANI", published_at=when))
    index.put(ArticleIn(text=seed_texts["001"], id="001"))
    arts = IndexSource(index.client, index.keys).articles(index.config, JobParams(), lambda f: None)
    assert sorted(arts.ids) == ["000", "001"] and arts.sigs.shape == (2, index.config.num_perm)
    row = arts.ids.index("000")
    epochs, sources = arts.dates(np.array([row]))
    assert epochs[0] == when.timestamp() and sources == ["ANI"]
    assert arts.shingles is not None and len(arts.shingles([row])[0].hashes) > 0
    fps = arts.fingerprints()
    assert fps is not None and len(fps) == 2
