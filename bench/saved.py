"""A benchmark index kept on disk, so that timing queries at a million
articles does not mean ingesting a million articles again.

``python -m bench ingest --size 1M --keep-index DIR`` ends by saving the
bench's Redis (an RDB snapshot) and what the query scenario needs of the
corpus (every article's family, the query sample) into DIR;
``python -m bench query --index DIR`` loads both into a fresh redis-server on
127.0.0.1 and runs the query scenario again: the figures to quote after a
change to the query path. The index must still be readable by the code
(``Index.check_config`` refuses one made with other pipeline settings or an
older layout, with the reason).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import redis

from bench.scenarios import Corpus
from bench.synth import Article, Material, generate

SNAPSHOT = "index.rdb"
TRUTH = "corpus.json"
INDEX_NAME = "bench"  # the name the ingest scenario gives its index


def save(client: redis.Redis, directory: Path, corpus: Corpus) -> Path:
    """Snapshot ``client``'s Redis into ``directory`` with the truth of
    ``corpus`` (already streamed into the index). Blocks while Redis writes
    (~1 min for a million articles)."""
    directory.mkdir(parents=True, exist_ok=True)
    truth = {
        "size": corpus.size,
        "seed": corpus.seed,
        "queries": corpus.queries,
        "family": corpus.family,
        "sample": [_article_json(a) for a in corpus.sample],
    }
    client.config_set("dir", str(directory.resolve()))
    client.config_set("dbfilename", SNAPSHOT)
    client.save()
    (directory / TRUTH).write_text(json.dumps(truth))
    return directory / SNAPSHOT


def regenerate(corpus: Corpus, material: Material) -> Iterator[Article]:
    """The saved index's articles again, from its size and seed and ``material``.

    Each sample article is checked where ``Corpus.stream`` took it (every
    ``size // queries``-th, from the first): another material would give
    another corpus, and is refused at the first article."""
    every = max(1, corpus.size // corpus.queries)
    for i, article in enumerate(generate(corpus.size, seed=corpus.seed, material=material)):
        nth, offset = divmod(i, every)
        if offset == 0 and nth < len(corpus.sample):
            kept = corpus.sample[nth]
            if (article.id, article.text) != (kept.id, kept.text):
                raise SystemExit(
                    f"article {i} regenerated from this material differs from the saved "
                    "index's: pass the --material the index was built with"
                )
        yield article


def _article_json(a: Article) -> dict[str, object]:
    d = asdict(a)
    d["published_at"] = a.published_at.isoformat()
    return d


def load(directory: Path) -> Corpus:
    """The corpus truth saved with an index (its articles are not regenerated)."""
    path = directory / TRUTH
    if not (directory / SNAPSHOT).is_file() or not path.is_file():
        raise SystemExit(
            f"{directory} holds no saved bench index ({SNAPSHOT} and {TRUTH}): make one with "
            f"'python -m bench ingest --size N --keep-index {directory}'"
        )
    data = json.loads(path.read_text())
    sample = [
        Article(**{**a, "published_at": datetime.fromisoformat(a["published_at"])})
        for a in data["sample"]
    ]
    return Corpus(
        size=int(data["size"]),
        seed=int(data["seed"]),
        material=Material(sentences=(), names=(), plain=()),  # never regenerated
        queries=int(data["queries"]),
        family={str(k): int(v) for k, v in data["family"].items()},
        sample=sample,
    )
