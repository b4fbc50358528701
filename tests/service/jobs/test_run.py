"""service.jobs.run: the one clustering run, over an index or a corpus in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from service.jobs.run import EXACT_LIMIT, cluster, thresholds_for, verify_mode
from service.jobs.sources import Corpus, IndexSource
from service.jobs.store import JobParams
from service.model import ArticleIn
from service.storage.index import Index
from shingling import PipelineConfig, Thresholds, analyse
from tests.conftest import reword


def _seed(index: Index, seed_texts: dict[str, str], dated: bool = False) -> None:
    for n, (key, text) in enumerate(sorted(seed_texts.items())):
        when = datetime(2024, 5, 1, 12, n, tzinfo=UTC) if dated else None
        index.put(ArticleIn(text=text, id=key, published_at=when))


def _corpus(seed_texts: dict[str, str], config: PipelineConfig, shingles: bool) -> Corpus:
    keys = sorted(seed_texts)
    made = [analyse(seed_texts[k], config) for k in keys]
    return Corpus(
        keys,
        np.stack([a.signature for a in made]),
        np.array([datetime(2024, 5, 1, 12, n, tzinfo=UTC).timestamp() for n in range(len(keys))]),
        [None] * len(keys),
        [a.fingerprints for a in made],
        [a.shingles for a in made] if shingles else None,
    )


def test_verify_mode_auto_is_exact_up_to_the_limit() -> None:
    assert verify_mode("auto", EXACT_LIMIT) == "exact"
    assert verify_mode("auto", EXACT_LIMIT + 1) == "estimate"
    assert verify_mode("exact", EXACT_LIMIT + 1) == "exact"
    assert verify_mode("estimate", 1) == "estimate"


def test_unknown_threshold_overrides_are_refused() -> None:
    assert thresholds_for(Thresholds(), {"duplicate_jaccard": 0.5}).duplicate_jaccard == 0.5
    with pytest.raises(ValueError, match="nonsense"):
        thresholds_for(Thresholds(), {"nonsense": 1.0})


def test_time_window_limits_the_articles(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts, dated=True)  # 000 at 12:00 ... 004 at 12:04
    since = datetime(2024, 5, 1, 12, 1, tzinfo=UTC).timestamp()
    summary, clusters = cluster(
        IndexSource(index.client, index.keys),
        index.config,
        index.thresholds,
        JobParams(since=since),
    )
    assert summary["articles"] == 4 and clusters == []  # 000 is outside the window


def test_exact_verification_reads_the_stored_sets(index: Index, seed_texts) -> None:  # type: ignore[no-untyped-def]
    _seed(index, seed_texts)
    # Without its text the stored set must still be enough to link 000 and 001.
    for key in ("000", "001"):
        part = index.keys.for_id(key)
        n = int(index.client.hget(part.ids, key))
        index.client.hdel(part.doc(n), "text")
    summary, clusters = cluster(
        IndexSource(index.client, index.keys),
        index.config,
        index.thresholds,
        JobParams(verify="exact"),
    )
    assert summary["verify"] == "exact"
    assert [c.members for c in clusters] == [["000", "001"]]


@pytest.mark.parametrize("verify", ["exact", "estimate"])
def test_a_corpus_and_an_index_of_the_same_articles_give_the_same_run(
    index: Index, seed_texts: dict[str, str], verify: str
) -> None:
    _seed(index, seed_texts, dated=True)
    params = JobParams(verify=verify)  # type: ignore[arg-type]
    seen: list[float] = []
    on_index = cluster(
        IndexSource(index.client, index.keys), index.config, index.thresholds, params, seen.append
    )
    corpus = _corpus(seed_texts, index.config, shingles=verify == "exact")
    in_memory = cluster(corpus, index.config, index.thresholds, params)
    assert on_index[1] == in_memory[1] and [c.members for c in in_memory[1]] == [["000", "001"]]
    assert in_memory[1][0].origin == "000"  # published first
    counts = ("articles", "clusters", "verify", "candidate_pairs", "linked_pairs", "passage_pairs")
    assert {k: on_index[0][k] for k in counts} == {k: in_memory[0][k] for k in counts}
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] <= 0.15


def test_exact_verification_of_a_corpus_needs_its_shingle_sets(seed_texts: dict[str, str]) -> None:
    corpus = _corpus(seed_texts, PipelineConfig(), shingles=False)
    with pytest.raises(ValueError, match="shingle sets"):
        cluster(corpus, PipelineConfig(), Thresholds(), JobParams(verify="exact"))


def test_an_empty_source_gives_no_clusters() -> None:
    config = PipelineConfig()
    empty = Corpus([], np.empty((0, config.num_perm), dtype=np.uint32), np.empty(0))
    summary, clusters = cluster(empty, config, Thresholds(), JobParams(verify="estimate"))
    assert clusters == [] and summary["articles"] == 0 and summary["largest_cluster"] == 0


@pytest.mark.parametrize("on_index", [True, False])
def test_rewritten_links_join_a_reworded_copy_to_its_family(
    index: Index, seed_texts: dict[str, str], on_index: bool
) -> None:
    texts = {**seed_texts, "005": reword(seed_texts["000"])}
    params = JobParams(verify="exact", rewritten=True)
    if on_index:
        _seed(index, texts)
        source: IndexSource | Corpus = IndexSource(index.client, index.keys)
    else:
        source = _corpus(texts, index.config, shingles=True)
        source.texts = [texts[k] for k in sorted(texts)]
    summary, clusters = cluster(source, index.config, index.thresholds, params)
    assert [c.members for c in clusters] == [["000", "001", "005"]]
    assert summary["rewritten"]["linked"] >= 1 and summary["rewritten"]["over_budget"] == 0
    plain, _ = cluster(source, index.config, index.thresholds, JobParams(verify="exact"))
    assert "rewritten" not in plain  # and without it, 005 stays apart:
    assert [c.members for c in _] == [["000", "001"]]


def test_rewritten_links_need_exact_verification_and_texts(seed_texts: dict[str, str]) -> None:
    corpus = _corpus(seed_texts, PipelineConfig(), shingles=True)  # no texts kept
    for params in (
        JobParams(verify="exact", rewritten=True),
        JobParams(verify="estimate", rewritten=True),
    ):
        with pytest.raises(ValueError, match="rewritten links need exact verification"):
            cluster(corpus, PipelineConfig(), Thresholds(), params)
