import itertools

import pytest

from shingling import PipelineConfig, Thresholds, Verdict, compare, shingle

CFG = PipelineConfig()
T = Thresholds()


def test_seed_pair_000_001_is_syndicated_both_ways(seed_texts: dict[str, str]) -> None:
    a, b = shingle(seed_texts["000"], CFG), shingle(seed_texts["001"], CFG)
    ab, ba = compare(a, b), compare(b, a)
    assert 0.2 < ab.jaccard < 0.25
    assert ab.jaccard == ba.jaccard
    assert ab.containment == ba.reverse_containment
    assert ab.verdict(T) == ba.verdict(T) == Verdict.SYNDICATED


def test_other_seed_pairs_are_not_strong(seed_texts: dict[str, str]) -> None:
    sh = {k: shingle(v, CFG) for k, v in seed_texts.items()}
    for x, y in itertools.combinations(sorted(sh), 2):
        if {x, y} == {"000", "001"}:
            continue
        assert compare(sh[x], sh[y]).verdict(T) is None, (x, y)


def test_duplicate_with_trivial_edits(seed_texts: dict[str, str]) -> None:
    edited = seed_texts["000"].replace("Thursday", "Thurs.", 1).replace("sharply ", "")
    assert compare(shingle(edited, CFG), shingle(seed_texts["000"], CFG)).verdict(T) == (
        Verdict.DUPLICATE
    )


def test_first_half_of_wire_story_is_syndicated(seed_texts: dict[str, str]) -> None:
    paras = seed_texts["000"].split("\n\n")
    half = "\n\n".join(paras[: len(paras) // 2])
    s = compare(shingle(half, CFG), shingle(seed_texts["000"], CFG))
    assert s.containment > 0.95
    assert s.verdict(T) in (Verdict.SYNDICATED, Verdict.DUPLICATE)


def test_shared_quotes_only_is_at_most_partial() -> None:
    quote = (
        '"We now assess that there are some 10,000 North Korean soldiers in total in Russia. '
        "And recent information indicates that as many as 8,000 of those forces have been "
        'deployed in the Kursk region," '
    )
    a = (
        "Speaking in Washington, the secretary of state told reporters: "
        + quote
        + ("He gave no evidence for the figures and took no questions afterwards.")
    )
    b = (
        "At a briefing that lasted barely twenty minutes, Blinken was blunt. "
        + quote
        + ("Analysts in Seoul said the estimate matched their own intelligence.")
    )
    s = compare(shingle(a, CFG), shingle(b, CFG))
    assert s.shared > T.partial_shared
    assert s.verdict(T) == Verdict.PARTIAL


@pytest.mark.parametrize("text", ["one", "one two three"])
def test_short_texts_compare(text: str) -> None:
    s = compare(shingle(text, CFG), shingle(text, CFG))
    assert s.jaccard == 1.0


def test_shared_page_chrome_only_is_no_match(seed_texts: dict[str, str]) -> None:
    tail = seed_texts["003"][seed_texts["003"].index("Latest Headlines") :]
    widget = "\nCOMMERCIAL BREAK\nSCROLL TO CONTINUE READING\n"
    a = seed_texts["000"].replace("\n\n", widget, 1) + "\n\n" + tail
    b = seed_texts["004"].replace("\n", widget, 1) + "\n\n" + tail
    assert compare(shingle(a, CFG), shingle(b, CFG)).verdict(T) is None


def _random_set(rng, size: int, universe: int):  # type: ignore[no-untyped-def]
    import numpy as np

    from shingling.shingles import Shingles

    values = np.unique(rng.integers(0, universe, size)).astype(np.uint32)
    narrative = values[rng.random(len(values)) < 0.7]
    return Shingles(values, narrative)


def test_compare_packed_scores_each_stored_set_as_compare_does() -> None:
    import numpy as np

    from shingling import compare_packed
    from shingling.shingles import pack, unpack

    rng = np.random.default_rng(3)
    for trial in range(40):
        query = _random_set(rng, int(rng.integers(0, 300)), 600)
        others = [_random_set(rng, int(rng.integers(0, 300)), 600) for _ in range(trial % 7)]
        stored = [pack(o) for o in others]
        assert compare_packed(query, stored) == [compare(query, unpack(*p)) for p in stored]
    # Sets that share nothing, empty ones on either side, values that agree in
    # their low 16 bits only, and a stored set without its narrative bitmap.
    empty = _random_set(rng, 0, 10)
    lone = _random_set(rng, 50, 10**9)
    from shingling.shingles import Shingles

    near = Shingles(lone.hashes + np.uint32(1 << 16), lone.hashes[:0])
    stored = [pack(lone), pack(empty), pack(near), (pack(lone)[0], b"")]
    assert compare_packed(empty, stored) == [compare(empty, unpack(*p)) for p in stored]
    assert compare_packed(lone, stored) == [compare(lone, unpack(*p)) for p in stored]
    assert compare_packed(lone, stored)[2].shared == 0
    assert compare_packed(lone, stored)[3].shared_narrative == 0
