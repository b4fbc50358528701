"""shingling.align.aligner: seeds 000 vs 001, and reorder/split/merge/paraphrase cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shingling.align import FEATURES, Alignment, AlignParams, Sentence, align, rewrite_degree

P1 = (
    "Blinken said about 10,000 North Korean soldiers are currently in Russia, "
    "with 8,000 deployed in the Kursk region."
)
P2 = "He expects the troops to be used in combat against Ukrainian forces in the coming days."
P3 = "The remarks came at a press conference with South Korean ministers in Washington."
P4 = "Japan's defence ministry said the missile flew for 86 minutes before landing at sea."
OTHER = "Stock markets in Europe closed higher on Friday as energy shares rallied."


def find(side: tuple[Sentence, ...], needle: str) -> Sentence:
    hits = [s for s in side if needle in s.text]
    assert len(hits) == 1, (needle, [s.text for s in side])
    return hits[0]


@pytest.fixture(scope="module")
def seeds() -> Alignment:
    from tests.conftest import SEEDS

    a = (SEEDS / "000_3a13d4dc9571d926.txt").read_text(encoding="utf-8")
    b = (SEEDS / "001_d7f4fccf9dbf45e7.txt").read_text(encoding="utf-8")
    return align(a, b)


def test_seeds_shared_ani_paragraphs_are_copied(seeds: Alignment) -> None:
    for needle in (
        "And recent information indicates",
        "We have not yet seen these troops",
        "Russia has been training Democratic",
        "Should these troops engage in combat",
    ):
        a, b = find(seeds.a, needle), find(seeds.b, needle)
        assert (a.label, b.label) == ("copied", "copied")
        assert a.match == b.index and b.match == a.index
        assert a.quote and b.quote  # a quotation every outlet carries


def test_seeds_zelenskyy_paragraphs_are_added(seeds: Alignment) -> None:
    zelenskyy = [s for s in seeds.b if "Zelenskyy" in s.text or "China" in s.text]
    assert len(zelenskyy) >= 3
    assert all(s.label == "added" and s.match is None for s in zelenskyy)
    assert find(seeds.b, "Asian Security Alliance").label == "added"


def test_seeds_missile_paragraphs_are_omitted(seeds: Alignment) -> None:
    for needle in ("launched at 7:11 am", "Nakatani Gen", "1,000 kilometres", "12th ballistic"):
        s = find(seeds.a, needle)
        assert (s.label, s.match) == ("omitted", None)


def test_seeds_reworded_lead_is_paraphrased(seeds: Alignment) -> None:
    a = find(seeds.a, "on Thursday revealed that approximately")
    b = find(seeds.b, "recently made a striking revelation")
    assert (a.label, b.label) == ("paraphrased", "paraphrased")
    assert a.match == b.index
    changed = [op for op in b.diff if op.op != "equal"]
    assert any("striking" in op.text for op in changed)


def test_seeds_merged_press_conference_sentence(seeds: Alignment) -> None:
    # 001 merges "The remarks ... press conference ..." with the first quoted
    # sentence; both 000 sentences point at the one 001 sentence.
    b = find(seeds.b, "During a press conference")
    a1 = find(seeds.a, "The remarks by Blinken came during")
    a2 = find(seeds.a, "We now assess that there are some 10,000")
    assert a1.match == b.index and a2.match == b.index
    assert a1.label == a2.label == b.label != "omitted"


def test_seeds_summary_and_offsets(seeds: Alignment) -> None:
    s = seeds.summary
    assert s.copied + s.paraphrased + s.added == len(seeds.b)
    assert s.omitted == sum(x.label == "omitted" for x in seeds.a)
    assert s.added >= 8 and s.omitted >= 8 and s.copied >= 4
    # Chrome ("COMMERCIAL BREAK", "SCROLL TO CONTINUE READING") is never a sentence.
    assert not any("SCROLL" in x.text or "COMMERCIAL" in x.text for x in seeds.b)


def test_diff_offsets_point_into_text() -> None:
    a = "Officials said 10,000 soldiers arrived in Kursk on Monday."
    b = "Officials said 12,000 soldiers arrived in Kursk on Monday."
    result = align(a, b)
    (sa,), (sb,) = result.a, result.b
    assert sa.label == sb.label == "copied"
    for side, text in ((sa, a), (sb, b)):
        assert side.diff
        for op in side.diff:
            assert text[op.start : op.end] == op.text
    assert [op.text for op in sb.diff if op.op != "equal"] == ["12,000"]
    assert [op.text for op in sa.diff if op.op != "equal"] == ["10,000"]


def test_reordered_paragraphs() -> None:
    a = "\n\n".join([P1, P2, P3, P4])
    b = "\n\n".join([P4, P3, P1, P2])
    result = align(a, b)
    assert [s.label for s in result.b] == ["copied"] * 4
    assert [s.match for s in result.b] == [3, 2, 0, 1]
    assert result.summary.copied == 4 and result.summary.omitted == 0


def test_dropped_and_added_sentences() -> None:
    result = align(" ".join([P1, P2, P3]), " ".join([P1, OTHER, P3]))
    assert [s.label for s in result.a] == ["copied", "omitted", "copied"]
    assert [s.label for s in result.b] == ["copied", "added", "copied"]
    assert result.summary.added == 1 and result.summary.omitted == 1


def test_split_sentence_many_to_one() -> None:
    a = (
        "Blinken said 10,000 North Korean soldiers are now in Russia, and he expects "
        "them to be sent into combat against Ukrainian forces within days."
    )
    b = (
        "Blinken said 10,000 North Korean soldiers are now in Russia. "
        "He expects them to be sent into combat against Ukrainian forces within days."
    )
    result = align(a, b)
    (sa,) = result.a
    assert len(result.b) == 2
    assert all(s.label == "copied" and s.match == 0 for s in result.b)
    assert sa.label == "copied" and sa.match in (0, 1)


def test_merged_sentences_many_to_one() -> None:
    a = (
        "The minister arrived in Seoul on Monday for two days of talks. "
        "She will meet the president and the defence minister on Tuesday."
    )
    b = (
        "The minister arrived in Seoul on Monday for two days of talks, and she will "
        "meet the president and the defence minister on Tuesday."
    )
    result = align(a, b)
    (sb,) = result.b
    assert [s.match for s in result.a] == [0, 0]
    assert {s.label for s in result.a} == {sb.label} and sb.label in ("copied", "paraphrased")


def test_paraphrase_is_not_copied() -> None:
    a = (
        "US Secretary of State Antony Blinken said on Thursday that about 10,000 North Korean "
        "soldiers are in Russia, with 8,000 deployed in the Kursk region."
    )
    b = (
        "About 10,000 North Korean troops are now in Russia and some 8,000 of them have been "
        "sent to the Kursk region, US Secretary of State Antony Blinken said on Thursday."
    )
    result = align(a, b)
    assert [s.label for s in result.a] == ["paraphrased"]
    assert [s.label for s in result.b] == ["paraphrased"]


def test_unrelated_texts_share_nothing() -> None:
    result = align(P1 + " " + P2, OTHER + " Oil prices fell on rising supply from the Gulf.")
    assert {s.label for s in result.a} == {"omitted"}
    assert {s.label for s in result.b} == {"added"}


def test_empty_side() -> None:
    result = align("", P1)
    assert result.a == () and [s.label for s in result.b] == ["added"]
    result = align(P1, "   ")
    assert [s.label for s in result.a] == ["omitted"] and result.b == ()


def test_narrative_copy_is_not_a_quote() -> None:
    result = align(P1, P1.replace("currently", "now"))
    assert result.b[0].label == "copied" and not result.b[0].quote


PIECES = st.sampled_from(
    [
        "a",
        "Bc",
        " ",
        ".",
        ",",
        "!",
        "?",
        '"',
        "\u201c",
        "\u201d",
        "'",
        "\n",
        "\n\n",
        "-",
        "0",
        "1,000",
        "U.S.",
        "Mr. ",
        "Oct. 23",
        "\r\n",
        "\u2028",
        "\x0b",
        "\u00e9",
        "\u4e2d",
        "ADVERTISEMENT\n",
        "Troops left Kursk. ",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join), st.lists(PIECES, max_size=40).map("".join))
def test_any_text_aligns_with_valid_offsets(a: str, b: str) -> None:
    result = align(a, b)
    for side, text, unmatched in ((result.a, a, "omitted"), (result.b, b, "added")):
        for s in side:
            assert text[s.start : s.end] == s.text
            assert (s.match is None) == (s.label == unmatched)
            assert all(text[op.start : op.end] == op.text for op in s.diff)


def test_verbatim_excerpt_is_copied() -> None:
    a = P1 + " " + P2
    b = "Blinken said about 10,000 North Korean soldiers are currently in Russia."
    result = align(a, b)
    (sb,) = result.b
    assert sb.label == "copied" and sb.match == 0
    assert result.a[0].label == "copied" and result.a[1].label == "omitted"


# ------------------------------------------------------------ size and limits


def distinct_sentences(n: int, start: int = 0) -> str:
    """``n`` sentences of words no other sentence has (no pair is a candidate)."""
    return " ".join(
        " ".join(f"w{k * 10 + i}x" for i in range(8)).capitalize() + "."
        for k in range(start, start + n)
    )


def test_memory_grows_with_kept_pairs_not_with_n_times_m(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    from shingling.align import scoring

    monkeypatch.setattr(scoring, "PAIRS_PER_BLOCK", 1 << 14)  # small blocks, small test
    n = 800
    a, b = distinct_sentences(n), distinct_sentences(n, start=n)
    tracemalloc.start()
    try:
        result = align(a, b)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.a) == len(result.b) == n
    dense_features = n * n * len(FEATURES) * 8  # one n x m float matrix per feature
    assert peak < dense_features / 2, (peak, dense_features)


def test_blocks_and_sparse_assignment_change_nothing(
    seeds: Alignment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shingling.align import pairing, scoring
    from tests.conftest import SEEDS

    a = (SEEDS / "000_3a13d4dc9571d926.txt").read_text(encoding="utf-8")
    b = (SEEDS / "001_d7f4fccf9dbf45e7.txt").read_text(encoding="utf-8")
    monkeypatch.setattr(scoring, "PAIRS_PER_BLOCK", 1)  # one sentence of a per block
    monkeypatch.setattr(pairing, "DENSE_ASSIGNMENT", 0)  # every component to the sparse solver
    assert align(a, b) == seeds


def test_too_many_sentences_refused_before_any_pair_is_scored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shingling.align import TooManySentences, aligner

    def no_scoring(*args: object) -> None:
        raise AssertionError("pairs were scored")

    monkeypatch.setattr(aligner, "score", no_scoring)
    with pytest.raises(TooManySentences) as refused:
        align(distinct_sentences(3), distinct_sentences(12), max_sentences=10)
    assert (refused.value.side, refused.value.count, refused.value.limit) == ("b", 12, 10)
    assert "12 sentences" in str(refused.value) and "10" in str(refused.value)


def test_summary_carries_the_rewrite_degree(seeds: Alignment) -> None:
    sm = seeds.summary
    assert (sm.reused, sm.paraphrase_share, sm.rewritten) == tuple(
        round(v, 4) if isinstance(v, float) else v for v in rewrite_degree(seeds.b)
    )
    assert sm.rewritten is not None  # 001 is the syndicated copy of 000


def test_a_restatement_beside_a_copy_is_paraphrased_not_added() -> None:
    a = (
        "The city council voted on Tuesday to close the old river bridge for six months "
        "of repairs. The mayor said the work was overdue."
    )
    b = (
        "The city council voted on Tuesday to close the old river bridge for six months "
        "of repairs. The old river bridge will be closed for six months while it is "
        "repaired, the council decided. Shops near the bridge fear losing customers."
    )
    result = align(a, b)
    assert [(s.label, s.match) for s in result.b] == [
        ("copied", 0),
        ("paraphrased", 0),
        ("added", None),
    ]
    assert result.a[0].label == "copied" and result.a[0].match == 0  # keeps its main partner
    restated = result.b[1]
    assert {op.op for op in restated.diff} >= {"equal", "insert"}  # its own diff against a0
    assert all(b[op.start : op.end] == op.text for op in restated.diff)
    pair_by_pair = align(a, b, AlignParams(context_threshold=0.0, context_edge=0.0))
    assert pair_by_pair.b[1].label == "added"
