"""From an index's candidates to ranked matches: exact verification, ranking
and shared passages.

LSH finds *candidates* and is approximate: a pair with Jaccard ``s`` is a
candidate with probability ``1 - (1 - s**r)**b`` (see ``PipelineConfig``), and
at most ``max_candidates`` of them (the most shared bands first) are verified,
and a bucket shared by more than ``max_bucket`` articles contributes only its
newest ``max_bucket`` (a pair whose only shared band is such a bucket can be
missed).
Every verified candidate is scored exactly on its stored shingle set (32-bit
hashes: see ``shingling.shingles.narrow``), so the scores in a ``Match`` are
exact; only a missed candidate is an error, and its rate is measured in
docs/matching.md and the benchmarks.

No Redis here: ``Index`` reads the candidate rows (``Index.lookup``) and the
matched texts, and hands them to ``verify`` and ``with_passages``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple, cast

from service.model import Match
from service.storage.layout import decode_str, decode_text
from shingling import PipelineConfig, Thresholds, Verdict, compare_packed
from shingling.passages import locate, shared_passages_many
from shingling.shingles import Shingles

VERDICT_RANK = {Verdict.DUPLICATE: 0, Verdict.SYNDICATED: 1, Verdict.PARTIAL: 2}


class Candidate(NamedTuple):
    """One row of ``lua/query.lua``'s reply: a doc number, how many of the
    query's band buckets and passage fingerprints it shares, and (when asked
    for) the stored fields verifying and reporting it needs (None when the
    doc was deleted)."""

    number: int
    shared_bands: int
    shared_fingerprints: int
    id: bytes | None = None
    title: bytes | None = None
    source: bytes | None = None
    published_at: bytes | None = None
    hashes: bytes | None = None
    narrative: bytes | None = None


#: Values per candidate in ``query.lua``'s flat reply, without and with doc fields.
ROW_WIDTH = {False: 3, True: 9}


def parse_candidates(
    flat: Sequence[Any], with_docs: bool, number: Callable[[int], int]
) -> list[Candidate]:
    """``query.lua``'s flat reply (one list: see its note on why) as a row
    per candidate; ``number`` maps the partition's doc number to a global one."""
    width = ROW_WIDTH[with_docs]
    return [
        Candidate(
            number(int.from_bytes(flat[i], "little")),
            int(flat[i + 1]),
            int(flat[i + 2]),
            *flat[i + 3 : i + width],
        )
        for i in range(0, len(flat), width)
    ]


def rank_key(m: Match) -> tuple[int, float, float, str]:
    """Best first: the strongest verdict, then the larger containment either
    way, then Jaccard, then the id (a stable order for equal scores)."""
    return (VERDICT_RANK[m.verdict], -max(m.containment, m.reverse_containment), -m.jaccard, m.id)


def verify(
    query: Shingles, rows: Sequence[Candidate], thresholds: Thresholds, limit: int
) -> list[Match]:
    """Exact scores and verdicts of the candidate ``rows`` (fetched with their
    doc fields) against the ``query`` shingle set; the ``limit`` best matches."""
    # A row whose doc was deleted since its band entry was read has no id.
    found = [r for r in rows if r.id is not None and r.hashes is not None]
    stored = [(cast(bytes, r.hashes), r.narrative or b"") for r in found]
    matches: list[Match] = []
    for row, scores in zip(found, compare_packed(query, stored), strict=True):
        verdict = scores.verdict(thresholds)
        if verdict is None:
            continue
        matches.append(
            Match(
                id=cast(bytes, row.id).decode(),
                title=decode_str(row.title),
                source=decode_str(row.source),
                published_at=decode_str(row.published_at),
                jaccard=scores.jaccard,
                containment=scores.containment,
                reverse_containment=scores.reverse_containment,
                shared_shingles=scores.shared,
                verdict=verdict,
                number=row.number,
            )
        )
    matches.sort(key=rank_key)
    return matches[:limit]


def with_passages(
    query_text: str,
    matches: list[Match],
    texts: Sequence[bytes | None],
    config: PipelineConfig,
) -> list[Match]:
    """``matches`` with their shared passages and shares, ``texts[i]`` the
    stored ``text`` field of ``matches[i]`` (None: removed since it was
    verified, reported without passages; past the end of ``texts``: not
    located). The query is located once and the texts in one compiled call
    (``shingling.passages.shared_passages_many``): ~0.1 ms a news article."""
    if not matches:
        return matches
    todo = [i for i, raw in enumerate(texts[: len(matches)]) if raw is not None]
    query = locate(query_text, config)
    shared = shared_passages_many(query, [decode_text(texts[i]) for i in todo], config)
    out = list(matches)
    for i, s in zip(todo, shared, strict=True):
        out[i] = replace(out[i], passages=s.passages, query_share=s.a_share, match_share=s.b_share)
    return out
