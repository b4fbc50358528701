"""Rewritten copies in the batch job: the aligner decides pairs shingles cannot.

The clustering rule (``shingling.families.link``) links a pair when its
shingle verdict is ``duplicate`` or ``syndicated``: 30 % of one article's
shingles in the other. A copy that was reworded sentence by sentence keeps
few 5-word runs, so its verdict falls to ``partial`` or below and it stays
out of its story's family. ``RewriteVerifier`` gives those pairs a second
look: a candidate pair (it shares an LSH band or a passage fingerprint) that
the shingles leave apart but that shares at least ``min_shared`` word
shingles is aligned sentence by sentence (``shingling.align``, with the pair
model the caller chose: lexical, or lexical + semantic), and it links when
the alignment finds the shorter article a copy (``Summary.rewritten`` is set)
*and* its reused sentences are at least ``min_share`` of the shorter
article's countable sentences: the same 30 % rule, counted on sentences
instead of shingles.

What keeps this from becoming a topic detector: only pairs that share some
running text are aligned (two reports of one event in their own words are
never looked at), and the document-level count leaves out shared quotations
and the context pass's sentences (``labels.rewrite_degree``), so two reports
quoting one speaker are not a copy. ``min_share`` and ``min_shared`` were
chosen on the even fold of ``copydesk eval graded`` (docs/clustering.md).

Approximate, and bounded: the aligner's labels are a model's decisions
(docs/quality.md gives its held-out recall and precision); one alignment of
two 1000-word texts costs ~130 ms (lexical) to ~210 ms (semantic), so at most
``max_pairs`` pairs are aligned per run, the pairs with the highest shingle
containment first within each call, and a text of more than
``max_sentences`` sentences is not aligned. ``stats`` says how many pairs were
aligned, linked, and left for either limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shingling.align import AlignParams, Rewritten, Summary, TooManySentences, align
from shingling.families import LINKING, ShingleVerifier
from shingling.score import Thresholds
from shingling.sentences import split_sentences
from shingling.tokenise import words

#: ``RewriteVerifier.min_share``: the share of the shorter article's sentences
#: that must be reused, as ``Thresholds.syndicated_containment`` is for shingles.
MIN_SHARE = 0.3
#: A candidate pair is aligned when it shares at least this many word shingles
#: (a run of ``k + 2`` words) and the shingles do not link it.
MIN_SHARED = 3
#: At most this many pairs aligned per run (``RewriteVerifier.max_pairs``).
MAX_PAIRS = 2000
#: Texts with more sentences are not aligned (``RewriteVerifier.max_sentences``).
MAX_SENTENCES = 400


@dataclass
class RewriteStats:
    """What the rewrite pass did in one run."""

    aligned: int = 0  # pairs aligned (left apart by the shingles, ``min_shared`` shared)
    linked: int = 0  # of those, linked as rewritten copies
    over_budget: int = 0  # such pairs left apart: ``max_pairs`` was spent
    too_long: int = 0  # such pairs left apart: a text over ``max_sentences``


def reused_share(
    a_text: str, b_text: str, params: AlignParams, *, max_sentences: int = MAX_SENTENCES
) -> tuple[float, bool]:
    """(share of ``b`` reused from ``a``, whether ``b`` is a copy of ``a``).

    The aligner's document-level count (``Summary.reused``: sentences of at
    least ``params.min_words`` words, copied or paraphrased, leaving out
    shared quotations and the context pass) over the sentences that could
    count: those of at least ``min_words`` words that are not a shared
    quotation. Raises ``TooManySentences`` past ``max_sentences``.
    """
    summary, share = _aligned(a_text, b_text, params, max_sentences)
    return share, summary.rewritten is not None


def _aligned(
    a_text: str, b_text: str, params: AlignParams, max_sentences: int
) -> tuple[Summary, float]:
    alignment = align(a_text, b_text, params, max_sentences=max_sentences)
    countable = sum(
        1 for s in alignment.b if not s.quote and len(words(s.text)) >= params.min_words
    )
    summary = alignment.summary
    return summary, (summary.reused / countable if countable else 0.0)


@dataclass(frozen=True)
class Judgement:
    """``judge``'s answer for one pair of texts.

    ``copy``: which text was taken as the copy (``"b"``, or ``"a"`` when it has
    fewer sentences); ``rewritten``: its degree (``Summary.rewritten``: None
    when the aligner finds no copy); ``paraphrase_share``: the paraphrased
    part of its reused sentences; ``reused``: those sentences;
    ``reused_share``: their share of its countable sentences; ``linked``: a
    copy *and* ``reused_share >= min_share``, the rule a clustering job's
    rewrite pass links a pair by.
    """

    copy: Literal["a", "b"]
    rewritten: Rewritten | None
    paraphrase_share: float
    reused: int
    reused_share: float
    linked: bool


def judge(
    a_text: str,
    b_text: str,
    params: AlignParams,
    *,
    min_share: float = MIN_SHARE,
    max_sentences: int = MAX_SENTENCES,
) -> Judgement:
    """Whether the shorter text (by sentences; ``b`` on a tie) is a rewritten
    copy of the other, by the sentence aligner. Approximate: the labels are a
    model's (docs/quality.md). Raises ``TooManySentences`` past ``max_sentences``."""
    copy: Literal["a", "b"] = "b"
    if len(split_sentences(a_text)) < len(split_sentences(b_text)):
        a_text, b_text, copy = b_text, a_text, "a"
    summary, share = _aligned(a_text, b_text, params, max_sentences)
    return Judgement(
        copy=copy,
        rewritten=summary.rewritten,
        paraphrase_share=summary.paraphrase_share,
        reused=summary.reused,
        reused_share=share,
        linked=summary.rewritten is not None and share >= min_share,
    )


class RewriteVerifier:
    """``exact``'s links, plus the pairs it leaves apart that share at least
    ``min_shared`` word shingles and that the aligner finds rewritten.

    ``texts_of(rows)``: the articles' texts (the caller reads them: files,
    Redis); ``exact``: the run's exact verifier, whose scores give each
    pair's shingle verdict. Texts are kept only while a call runs.
    """

    def __init__(
        self,
        exact: ShingleVerifier,
        texts_of: Callable[[Sequence[int]], Sequence[str]],
        thresholds: Thresholds,
        params: AlignParams,
        *,
        min_share: float = MIN_SHARE,
        min_shared: int = MIN_SHARED,
        max_pairs: int = MAX_PAIRS,
    ) -> None:
        self.exact = exact
        self.texts_of = texts_of
        self.thresholds = thresholds
        self.params = params
        self.min_share = min_share
        self.min_shared = min_shared
        self.max_pairs = max_pairs
        self.stats = RewriteStats()

    def _links(self, a_text: str, b_text: str) -> bool:
        """Whether the shorter text (by sentences) is a rewritten copy of the other."""
        return judge(a_text, b_text, self.params, min_share=self.min_share).linked

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        scores = self.exact.scores(a, b)
        linked = np.array([s.verdict(self.thresholds) in LINKING for s in scores], dtype=bool)
        # The pairs left apart that share some running text, the most shared
        # first: those the budget keeps.
        todo = sorted(
            (i for i, s in enumerate(scores) if not linked[i] and s.shared >= self.min_shared),
            key=lambda i: (-max(scores[i].containment, scores[i].reverse_containment), i),
        )
        room = max(0, self.max_pairs - self.stats.aligned - self.stats.too_long)
        self.stats.over_budget += max(0, len(todo) - room)
        todo = todo[:room]
        if not todo:
            return linked
        rows = sorted({int(r) for i in todo for r in (a[i], b[i])})
        text = dict(zip(rows, self.texts_of(rows), strict=True))
        for i in todo:
            try:
                ok = self._links(text[int(a[i])], text[int(b[i])])
            except TooManySentences:
                self.stats.too_long += 1
                continue
            self.stats.aligned += 1
            self.stats.linked += ok
            linked[i] = ok
        return linked

    def containment_matrix(self, rows: np.ndarray) -> np.ndarray:
        """The exact verifier's (origins are chosen on shingles, as before)."""
        return self.exact.containment_matrix(rows)
