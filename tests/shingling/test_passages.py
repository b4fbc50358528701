"""Winnowed fingerprints and shared passages (shingling/passages.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shingling import (
    PipelineConfig,
    analyse,
    fingerprints,
    kernels,
    shared_passages,
    shingle,
    words,
)
from shingling.chrome import short_line_args
from shingling.kernels import winnow
from shingling.passages import locate, shared_passages_many
from shingling.shingles import seeded
from shingling.tokenise import fold_args

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
CONFIG = PipelineConfig()
WORDS = [f"w{i}" for i in range(400)]


def _text(rng: np.random.Generator, n: int) -> str:
    return " ".join(rng.choice(WORDS, size=n))


def _reference_winnow(values: list[int], w: int) -> set[int]:
    """The definition: the rightmost minimum of every window of w values."""
    if len(values) <= w:
        return {min(values)} if values else set()
    chosen = set()
    for s in range(len(values) - w + 1):
        window = values[s : s + w]
        m = min(window)
        chosen.add(m)
    return chosen


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=80), st.integers(1, 12))
def test_winnow_picks_the_minimum_of_every_window(values: list[int], w: int) -> None:
    got = winnow(np.array(values, dtype=np.uint32), w)
    assert set(got.tolist()) == _reference_winnow(values, w)


def test_no_fingerprints_without_a_passage_index() -> None:
    text = " ".join(f"w{i}" for i in range(300))
    assert len(fingerprints(shingle(text, CONFIG), CONFIG)) > 0
    off = PipelineConfig(winnow=0)
    got = fingerprints(shingle(text, off), off)
    assert got.dtype == np.uint32 and len(got) == 0


def test_a_shared_run_of_the_guaranteed_length_always_shares_a_fingerprint() -> None:
    """Winnowing's guarantee, whatever surrounds the run and however long the texts."""
    rng = np.random.default_rng(7)
    run = CONFIG.guaranteed_run
    assert run is not None
    for trial in range(60):
        passage = _text(rng, run)
        a = f"{_text(rng, int(rng.integers(0, 3000)))} {passage} {_text(rng, 50)}"
        b = f"{_text(rng, 20)} {passage} {_text(rng, int(rng.integers(0, 300)))}"
        fa, fb = fingerprints(shingle(a, CONFIG), CONFIG), fingerprints(shingle(b, CONFIG), CONFIG)
        assert len(np.intersect1d(fa, fb)) >= 1, trial


def test_fingerprints_keep_about_two_in_winnow_plus_one_shingles() -> None:
    text = _text(np.random.default_rng(1), 5000)
    shingles = shingle(text, CONFIG)
    density = len(fingerprints(shingles, CONFIG)) / len(shingles)
    assert abs(density - 2 / (CONFIG.winnow + 1)) < 0.03


def test_analysis_carries_the_fingerprints() -> None:
    text = (SEEDS / "000_3a13d4dc9571d926.txt").read_text()
    analysis = analyse(text, CONFIG)
    assert np.array_equal(analysis.fingerprints, fingerprints(analysis.shingles, CONFIG))
    assert np.all(np.diff(analysis.fingerprints.astype(np.int64)) > 0)  # sorted, distinct


def test_the_seed_pair_shares_passages_at_the_right_offsets() -> None:
    a = (SEEDS / "001_d7f4fccf9dbf45e7.txt").read_text()
    b = (SEEDS / "000_3a13d4dc9571d926.txt").read_text()
    shared = shared_passages(a, b, CONFIG)
    assert shared.passages
    longest = max(shared.passages, key=lambda p: p.words)
    assert longest.words > 50
    # The offsets point at the same words in both texts (as folded: case and quotes aside).
    assert words(a[longest.a_start : longest.a_end]) == words(b[longest.b_start : longest.b_end])
    assert 0.3 < shared.a_share < 0.6 and 0.25 < shared.b_share < 0.5
    for p in shared.passages:  # in a's order, never overlapping
        assert p.a_start < p.a_end and p.b_start < p.b_end
    ends = [p.a_end for p in shared.passages]
    starts = [p.a_start for p in shared.passages]
    assert all(s >= e for s, e in zip(starts[1:], ends[:-1], strict=False))


def test_a_pasted_wire_passage_is_located_inside_a_long_story() -> None:
    rng = np.random.default_rng(3)
    wire = _text(rng, 120)
    story = f"{_text(rng, 1500)}\n\n{wire}\n\n{_text(rng, 1500)}"
    shared = shared_passages(story, wire, CONFIG)
    assert len(shared.passages) == 1
    (p,) = shared.passages
    assert story[p.a_start : p.a_end] == wire
    assert (p.b_start, p.b_end) == (0, len(wire))
    assert shared.b_share == 1.0
    assert abs(shared.a_share - 120 / 3120) < 1e-9


def test_one_changed_word_does_not_split_a_passage() -> None:
    rng = np.random.default_rng(5)
    words = list(rng.choice(WORDS, size=80))
    edited = [*words[:40], "CHANGED", *words[41:]]
    shared = shared_passages(" ".join(words), " ".join(edited), CONFIG)
    assert len(shared.passages) == 1 and shared.passages[0].words == 80


def test_unrelated_seeds_share_no_passage() -> None:
    a = (SEEDS / "000_3a13d4dc9571d926.txt").read_text()
    for other in ("002_0b82e36cb2ececb7.txt", "003_ad48eea2a50b0cbd.txt"):
        shared = shared_passages(a, (SEEDS / other).read_text(), CONFIG)
        assert shared.passages == [] and shared.a_share == 0.0


def _mixed_texts() -> list[str]:
    """Texts for every path of ``shared_passages_many``: news (one compiled
    call), page chrome (short lines: masked in Python), a piece break, a
    character beyond the fold table, too short for a window, empty."""
    seeds = [p.read_text() for p in sorted(SEEDS.glob("*.txt"))]
    rng = np.random.default_rng(11)
    pasted = f"{_text(rng, 300)} {seeds[0][:1500]} {_text(rng, 200)}"
    return [
        *seeds,
        pasted,
        "Home\nSport\nMenu\n" + seeds[1],
        seeds[2][:800] + "\0" + seeds[0][:800],
        "\U0001d518\U0001d52b " + seeds[0][:900],
        "four words only here",
        "",
    ]


@pytest.mark.parametrize("query_at", [0, 1, 5, 6, 7, 8, 9])
def test_shared_passages_many_gives_each_pairs_own_result(query_at: int) -> None:
    """One compiled call for a reply's texts, the same passages and shares as
    locating and comparing them one by one, on every path a text can take."""
    texts = _mixed_texts()
    query = locate(texts[query_at], CONFIG)
    many = shared_passages_many(query, texts, CONFIG)
    assert many == [shared_passages(query, t, CONFIG) for t in texts]
    if query_at in (0, 1, 5):  # 000 and 001 share passages, 000 is pasted into 5
        assert sum(bool(s.passages) for s in many) >= 3


def test_shared_passages_many_takes_every_path() -> None:
    """The kernel hands back the texts Python must locate, and says why."""
    texts = _mixed_texts()
    bounds = np.concatenate(([0], np.cumsum([len(t) for t in texts])))
    joined = "".join(texts).replace("\0", " ")
    q = locate(texts[0], CONFIG)
    status, tokens, *_ = kernels.match_runs(
        np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4"),
        bounds.astype(np.int64),
        short_line_args(),
        fold_args(),
        seeded(CONFIG.seed),
        CONFIG.k,
        (q.sorted_windows, q.order),
        CONFIG.k,
    )
    assert set(status.tolist()) == {kernels.SKETCHED, kernels.SHORT_LINE, kernels.UNFOLDABLE}
    assert status[-1] == kernels.SKETCHED and tokens[-1] == 0  # empty: no token, no window
    assert status[-2] == kernels.SHORT_LINE  # four words are one short line


def test_shared_passages_many_of_an_empty_query_or_no_texts() -> None:
    assert shared_passages_many(locate("", CONFIG), ["a text"], CONFIG) == [
        shared_passages("", "a text", CONFIG)
    ]
    assert shared_passages_many(locate("some query text here", CONFIG), [], CONFIG) == []
