"""service.storage.query: candidate rows, exact verification, ranking and
shared passages, without Redis."""

from __future__ import annotations

from dataclasses import replace

from service.model import Match, MatchRewrite
from service.storage import layout
from service.storage.query import (
    Candidate,
    RewritePass,
    judge_match,
    parse_candidates,
    rank_key,
    rewrite_order,
    rewritten_matches,
    score_rows,
    verify,
    with_passages,
)
from shingling import PipelineConfig, Thresholds, Verdict, analyse
from shingling.align import AlignParams
from shingling.score import Scores
from shingling.shingles import narrow, pack
from tests.conftest import reword

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


RP = RewritePass(AlignParams(), "lexical", pairs=3)


def _scored(number: int, containment: float, shared: int) -> tuple[Candidate, Scores]:
    row = Candidate(number, 1, 0, f"d{number}".encode(), None, None, None, b"", b"")
    return row, Scores(0.1, containment, 0.0, shared, shared)  # no quotations


def test_rewrite_order_takes_what_the_shingles_leave_apart_first() -> None:
    scored = [
        _scored(0, 0.5, 40),  # syndicated by its shingles
        _scored(1, 0.1, 10),  # partial
        _scored(2, 0.2, 4),  # too few shingles for a verdict, enough to align
        _scored(3, 0.9, 2),  # below min_shared: never aligned
        _scored(4, 0.6, 50),  # syndicated
    ]
    assert rewrite_order(scored, Thresholds(), RP) == [2, 1, 4]
    assert rewrite_order(scored, Thresholds(), replace(RP, pairs=10)) == [2, 1, 4, 0]
    assert rewrite_order(scored, Thresholds(), replace(RP, pairs=0)) == []


def _judged(linked: bool) -> MatchRewrite:
    return MatchRewrite("query", "light" if linked else None, 0.5, 6, 0.6, linked, "lexical")


def test_a_linked_rewrite_is_syndicated_and_an_unlinked_one_keeps_its_verdict() -> None:
    scored = [_scored(1, 0.1, 10), _scored(2, 0.2, 4), _scored(3, 0.25, 5), _scored(4, 0.5, 40)]
    judged = {0: _judged(True), 1: _judged(True), 2: _judged(False), 3: _judged(False)}
    out = {m.id: m for m in rewritten_matches(scored, Thresholds(), judged, limit=10)}
    assert {k: str(m.verdict) for k, m in out.items()} == {
        "d1": "syndicated",  # partial by shingles, linked by the aligner
        "d2": "syndicated",  # no verdict by shingles, linked
        "d4": "syndicated",  # the shingles' own verdict, whatever the aligner says
    }  # d3: below partial and not linked: no match
    assert out["d1"].rewrite == judged[0] and out["d4"].rewrite == judged[3]
    plain = rewritten_matches(scored, Thresholds(), {}, limit=10)
    assert [(m.id, str(m.verdict), m.rewrite) for m in plain] == [
        ("d4", "syndicated", None),
        ("d1", "partial", None),
    ]


def test_judge_match_finds_the_reworded_copy_and_not_the_independent_report(
    seed_texts: dict[str, str],
) -> None:
    copy = judge_match(reword(seed_texts["000"]), seed_texts["000"], RP)
    assert copy is not None and copy.linked and copy.rewritten is not None
    assert copy.copy_side == "query" and copy.reused_share >= 0.3 and copy.model == "lexical"
    other = judge_match(seed_texts["002"], seed_texts["000"], RP)
    assert other is not None and not other.linked
    assert judge_match(seed_texts["001"], seed_texts["000"], replace(RP, max_sentences=3)) is None


def test_score_rows_leaves_out_rows_deleted_since() -> None:
    query = narrow(analyse(BASE, CONFIG).shingles)
    scored = score_rows(query, [_row(2, BASE, "same"), Candidate(4, 9, 0)])
    assert [(row.number, s.jaccard) for row, s in scored] == [(2, 1.0)]
