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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from service.defaults import DEFAULT_REWRITE_PAIRS
from service.model import Match, MatchRewrite
from service.storage.layout import decode_str, decode_text
from shingling import PipelineConfig, Thresholds, Verdict, compare_packed
from shingling.align import AlignParams, TooManySentences, params_for
from shingling.families import LINKING
from shingling.passages import locate, shared_passages_many
from shingling.rewrites import MAX_SENTENCES, MIN_SHARE, MIN_SHARED, judge
from shingling.score import Scores
from shingling.shingles import Shingles

if TYPE_CHECKING:
    from service.settings import Settings

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


Scored = tuple[Candidate, Scores]


def score_rows(query: Shingles, rows: Sequence[Candidate]) -> list[Scored]:
    """Exact scores of the candidate ``rows`` (fetched with their doc fields)
    against the ``query`` shingle set, in one compiled pass."""
    # A row whose doc was deleted since its band entry was read has no id.
    found = [r for r in rows if r.id is not None and r.hashes is not None]
    stored = [(cast(bytes, r.hashes), r.narrative or b"") for r in found]
    return list(zip(found, compare_packed(query, stored), strict=True))


def _match(row: Candidate, scores: Scores, verdict: Verdict, rewrite: MatchRewrite | None) -> Match:
    return Match(
        id=cast(bytes, row.id).decode(),
        title=decode_str(row.title),
        source=decode_str(row.source),
        published_at=decode_str(row.published_at),
        jaccard=scores.jaccard,
        containment=scores.containment,
        reverse_containment=scores.reverse_containment,
        shared_shingles=scores.shared,
        verdict=verdict,
        rewrite=rewrite,
        number=row.number,
    )


def verify(
    query: Shingles, rows: Sequence[Candidate], thresholds: Thresholds, limit: int
) -> list[Match]:
    """Exact scores and verdicts of the candidate ``rows`` (fetched with their
    doc fields) against the ``query`` shingle set; the ``limit`` best matches."""
    return rewritten_matches(score_rows(query, rows), thresholds, {}, limit)


@dataclass(frozen=True)
class RewritePass:
    """What a query with ``rewritten=true`` asks for: the sentence aligner's
    judgement (``shingling.rewrites.judge``) of up to ``pairs`` candidates,
    with the pair model ``params`` (named ``model``). See ``rewrite_order``
    for which; ``min_shared``, ``min_share`` and ``max_sentences`` are the
    clustering job's rewrite pass's (``shingling.rewrites``)."""

    params: AlignParams
    model: Literal["lexical", "semantic"]
    pairs: int = DEFAULT_REWRITE_PAIRS
    max_sentences: int = MAX_SENTENCES
    min_share: float = MIN_SHARE
    min_shared: int = MIN_SHARED

    @classmethod
    def from_settings(cls, settings: Settings) -> RewritePass:
        """The pass a service's settings ask for: ``COPYDESK_SEMANTIC``'s pair
        model, ``COPYDESK_REWRITE_PAIRS`` pairs, texts of at most
        ``COPYDESK_MAX_ALIGN_SENTENCES`` (and the rewrite pass's 400) sentences."""
        return cls(
            params_for(settings.semantic),
            "semantic" if settings.semantic else "lexical",
            pairs=settings.rewrite_pairs,
            max_sentences=min(settings.max_align_sentences, MAX_SENTENCES),
        )

    @classmethod
    def asked(cls, settings: Settings, rewritten: bool) -> RewritePass | None:
        """The pass a query with ``rewritten`` runs under ``settings``: None
        when it did not ask, or when ``COPYDESK_REWRITE_PAIRS`` is 0."""
        return cls.from_settings(settings) if rewritten and settings.rewrite_pairs > 0 else None


def rewrite_order(scored: Sequence[Scored], thresholds: Thresholds, rp: RewritePass) -> list[int]:
    """Which of ``scored`` to align, at most ``rp.pairs``: first the pairs the
    shingles do not link (``partial``, or sharing at least ``rp.min_shared``
    shingles but too few for a verdict), where the aligner can change the
    verdict; then the linked ones, for their degree; each the larger
    containment (either way) first."""
    open_, linked = [], []
    for i, (_, s) in enumerate(scored):
        if s.verdict(thresholds) in LINKING:
            linked.append(i)
        elif s.shared >= rp.min_shared:
            open_.append(i)

    def key(i: int) -> tuple[float, int]:
        s = scored[i][1]
        return (-max(s.containment, s.reverse_containment), i)

    return (sorted(open_, key=key) + sorted(linked, key=key))[: max(0, rp.pairs)]


def judge_match(query_text: str, match_text: str, rp: RewritePass) -> MatchRewrite | None:
    """The aligner's judgement of one pair (None: a text has more than
    ``rp.max_sentences`` sentences, and is not aligned)."""
    try:
        j = judge(
            match_text,
            query_text,
            rp.params,
            min_share=rp.min_share,
            max_sentences=rp.max_sentences,
        )
    except TooManySentences:
        return None
    return MatchRewrite(
        copy_side="query" if j.copy == "b" else "match",
        rewritten=j.rewritten,
        paraphrase_share=j.paraphrase_share,
        reused=j.reused,
        reused_share=j.reused_share,
        linked=j.linked,
        model=rp.model,
    )


def rewritten_matches(
    scored: Sequence[Scored],
    thresholds: Thresholds,
    judged: dict[int, MatchRewrite],
    limit: int,
) -> list[Match]:
    """The ``limit`` best matches of ``scored``, ``judged[i]`` the aligner's
    judgement of ``scored[i]`` where it was asked for. A pair the aligner
    links (``MatchRewrite.linked``) and the shingles do not is ``syndicated``,
    as a clustering job with ``rewritten`` treats it; every other verdict is
    the shingles'."""
    matches: list[Match] = []
    for i, (row, scores) in enumerate(scored):
        verdict = scores.verdict(thresholds)
        rewrite = judged.get(i)
        if rewrite is not None and rewrite.linked and verdict not in LINKING:
            verdict = Verdict.SYNDICATED
        if verdict is not None:
            matches.append(_match(row, scores, verdict, rewrite))
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
