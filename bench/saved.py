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
BASELINE_SNAPSHOT = "baseline.rdb"
BASELINE_FACTS = "baseline.json"


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


def save_baseline(
    client: redis.Redis,
    directory: Path,
    corpus: Corpus,
    built: dict[str, object],
    facts: dict[str, object],
) -> Path:
    """Snapshot the datasketch baseline's Redis (``client``) into ``directory``,
    with what it was built over (``corpus``'s size and seed, ``facts``: the
    material and the pipeline settings) and its figures (``built``: the build's,
    and the queries' that a restoring run times again), so that a later
    ``query --baseline-index`` needs no build (93 minutes at a million articles)."""
    directory.mkdir(parents=True, exist_ok=True)
    client.config_set("dir", str(directory.resolve()))
    client.config_set("dbfilename", BASELINE_SNAPSHOT)
    client.save()
    record = {"size": corpus.size, "seed": corpus.seed, **facts, "built": built}
    (directory / BASELINE_FACTS).write_text(json.dumps(record, indent=1))
    return directory / BASELINE_SNAPSHOT


def load_baseline(directory: Path, corpus: Corpus, facts: dict[str, object]) -> dict[str, object]:
    """How the baseline saved in ``directory`` was built; refused (with what
    differs) unless it was built over ``corpus`` with the same ``facts``."""
    path = directory / BASELINE_FACTS
    if not (directory / BASELINE_SNAPSHOT).is_file() or not path.is_file():
        raise SystemExit(
            f"{directory} holds no saved baseline ({BASELINE_SNAPSHOT} and {BASELINE_FACTS}): "
            "make one with 'python -m bench query --index DIR --with-baseline "
            f"--keep-baseline {directory}'"
        )
    record = json.loads(path.read_text())
    expected = {"size": corpus.size, "seed": corpus.seed, **facts}
    differ = {k: (record.get(k), v) for k, v in expected.items() if record.get(k) != v}
    if differ:
        said = "; ".join(f"{k}: saved {a!r}, this run {b!r}" for k, (a, b) in differ.items())
        fix = "pass the --material it was built with, or build it again"
        if "material_sha256" not in differ:
            fix = "build it again with --with-baseline --keep-baseline"
        raise SystemExit(
            f"the baseline in {directory} was built for another corpus or settings ({said}): {fix}"
        )
    return dict(record["built"])


def regenerate(corpus: Corpus, material: Material) -> Iterator[Article]:
    """The saved index's articles again, from its size and seed and ``material``.

    Each sample article is checked where ``Corpus.stream`` took it (every
    ``size // queries``-th, from the first): another material would give
    another corpus, and is refused at the first article."""
    every = corpus.sample_every
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


def sample_within(corpus: Corpus, count: int) -> list[Article]:
    """The query sample's articles among the corpus's first ``count`` (a
    baseline capped below the corpus's size holds only those)."""
    return [a for nth, a in enumerate(corpus.sample) if nth * corpus.sample_every < count]


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
