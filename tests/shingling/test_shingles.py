import numpy as np
import pytest

from shingling import PipelineConfig, shingle
from shingling.kernels import windows
from shingling.shingles import sorted_unique, token_hashes

CFG = PipelineConfig()


def combine(hashes: np.ndarray, k: int) -> np.ndarray:
    """Every window's shingle hash, distinct and sorted (no token quoted)."""
    every, narrative = windows(hashes, np.zeros(len(hashes), dtype=bool), k)
    assert narrative.tolist() == every.tolist()
    return sorted_unique(every)


def test_combine_is_positional_and_windowed() -> None:
    h = token_hashes(["a", "b", "c", "d", "e", "f"], seed=1)
    out = combine(h, 5)
    assert len(out) == 2
    assert combine(token_hashes(["b", "a", "c", "d", "e"], 1), 5)[0] not in out
    assert combine(h[:5], 5)[0] in out


@pytest.mark.parametrize(("n", "expected"), [(0, 0), (1, 1), (4, 1), (5, 1), (9, 5)])
def test_number_of_windows(n: int, expected: int) -> None:
    assert len(combine(token_hashes([f"w{i}" for i in range(n)], 1), 5)) == expected


def test_shingles_ignore_case_quotes_and_chrome() -> None:
    a = shingle("The minister said \u201cno\u201d to the plan on Friday.", CFG)
    b = shingle('ADVERTISEMENT\nthe MINISTER said "no" to the plan on friday', CFG)
    assert np.array_equal(a.hashes, b.hashes)


def test_seed_changes_hashes() -> None:
    text = "one two three four five six"
    assert not np.array_equal(
        shingle(text, CFG).hashes, shingle(text, PipelineConfig(seed=2)).hashes
    )


def test_narrative_excludes_quoted_windows() -> None:
    text = 'The spokesman told reporters on Monday: "we will not accept this deal at all" today.'
    s = shingle(text, CFG)
    assert 0 < len(s.narrative) < len(s.hashes)


def test_pack_round_trip_and_narrow_scores(seed_texts: dict[str, str]) -> None:
    from shingling import compare
    from shingling.shingles import narrow, pack, unpack

    a, b = shingle(seed_texts["000"], CFG), shingle(seed_texts["001"], CFG)
    back = unpack(*pack(narrow(b)))
    assert np.array_equal(back.hashes, narrow(b).hashes)
    assert np.array_equal(back.narrative, narrow(b).narrative)
    wide, slim = compare(a, b), compare(narrow(a), back)
    assert (wide.shared, wide.shared_narrative, wide.jaccard) == (
        slim.shared,
        slim.shared_narrative,
        slim.jaccard,
    )


def test_narrow_keeps_the_distinct_low_halves(seed_texts: dict[str, str]) -> None:
    from shingling.shingles import narrow, pack

    s = shingle(seed_texts["001"], CFG)
    low = np.uint64(0xFFFFFFFF)
    slim = narrow(s)
    assert slim.hashes.dtype == np.uint32
    assert slim.hashes.tolist() == np.unique(s.hashes & low).tolist()
    assert slim.narrative.tolist() == np.unique(s.narrative & low).tolist()
    hashes, _ = pack(s)
    assert hashes == np.unique(s.hashes & low).astype("<u4").tobytes()
