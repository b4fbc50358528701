"""service.storage.query: candidate rows, exact verification, ranking and
shared passages, without Redis."""

from __future__ import annotations

from service.model import Match
from service.storage import layout
from service.storage.query import (
    Candidate,
    parse_candidates,
    rank_key,
    verify,
    with_passages,
)
from shingling import PipelineConfig, Thresholds, Verdict, analyse
from shingling.shingles import narrow, pack

CONFIG = PipelineConfig()
BASE = (
    "The council approved the new budget on Tuesday after a long and heated debate. "
    "Officials said the plan would fund schools, repair roads and open two new clinics. "
    "Critics argued that the tax rise would hurt the small businesses of the old town. "
    "The mayor promised a review of the spending within a year of the vote."
)
OTHER = (
    "Scientists have found a new species of frog in the rainforest of the northern hills. "
    "The tiny animal is about the size of a thumbnail and sings at night near streams."
)


def _row(number: int, text: str, article_id: str) -> Candidate:
    hashes, narrative = pack(analyse(text, CONFIG).shingles)
    return Candidate(number, 5, 0, article_id.encode(), b"T", None, None, hashes, narrative)


def test_parse_candidates_reads_the_flat_reply() -> None:
    flat = [layout.pack_u32(7), b"3", b"1", layout.pack_u32(9), b"0", b"2"]
    rows = parse_candidates(flat, False, lambda n: n + 100)
    assert rows == [Candidate(107, 3, 1), Candidate(109, 0, 2)]
    with_docs: list[object] = [layout.pack_u32(1), 2, 0, b"id", b"t", None, b"2024", b"sh", b"nq"]
    (row,) = parse_candidates(with_docs, True, lambda n: n)
    assert (row.id, row.title, row.source, row.published_at, row.hashes) == (
        b"id", b"t", None, b"2024", b"sh",
    )  # fmt: skip


def test_verify_scores_exactly_and_drops_what_is_no_match() -> None:
    query = narrow(analyse(BASE, CONFIG).shingles)
    rows = [
        _row(1, OTHER, "frog"),
        _row(2, BASE, "same"),
        _row(3, BASE + " A late addition changes the ending entirely.", "longer"),
        Candidate(4, 9, 0),  # deleted since its band entry was read: no id, no set
    ]
    matches = verify(query, rows, Thresholds(), limit=10)
    assert [m.id for m in matches] == ["same", "longer"]
    same = matches[0]
    assert same.verdict is Verdict.DUPLICATE and same.jaccard == 1.0 and same.number == 2
    assert same.title == "T" and same.source is None
    assert matches[1].containment == 1.0 and matches[1].reverse_containment < 1.0
    assert verify(query, rows, Thresholds(), limit=1) == matches[:1]


def _match(mid: str, verdict: Verdict, containment: float, jaccard: float) -> Match:
    return Match(mid, None, None, None, jaccard, containment, 0.0, 10, verdict)


def test_rank_key_orders_by_verdict_then_containment_then_jaccard_then_id() -> None:
    ms = [
        _match("p", Verdict.PARTIAL, 0.9, 0.9),
        _match("s-low", Verdict.SYNDICATED, 0.5, 0.4),
        _match("s-b", Verdict.SYNDICATED, 0.8, 0.4),
        _match("s-a", Verdict.SYNDICATED, 0.8, 0.4),
        _match("s-j", Verdict.SYNDICATED, 0.8, 0.6),
        _match("d", Verdict.DUPLICATE, 0.1, 0.95),
    ]
    assert [m.id for m in sorted(ms, key=rank_key)] == ["d", "s-j", "s-a", "s-b", "s-low", "p"]


def test_with_passages_locates_what_it_has_the_text_of() -> None:
    ms = [_match(str(i), Verdict.DUPLICATE, 1.0, 1.0) for i in range(3)]
    text = layout.encode_text(BASE.encode())
    out = with_passages(BASE, ms, [text, None], CONFIG)
    assert len(out) == 3
    assert out[0].passages and out[0].query_share == 1.0 and out[0].match_share == 1.0
    assert out[1] is ms[1] and out[2] is ms[2]  # removed since; not located
    assert with_passages(BASE, [], [], CONFIG) == []
