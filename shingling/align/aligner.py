"""``align(a, b)``: split both texts into sentences, score the pairs, pair
them up and label every sentence."""

from __future__ import annotations

from shingling.align.labels import Alignment, label_pairs, side_sentences, summarise
from shingling.align.model import AlignParams
from shingling.align.pairing import pair_up
from shingling.align.scoring import Scores, score
from shingling.align.sides import Side
from shingling.sentences import SentenceSpan, split_sentences


class TooManySentences(ValueError):
    """A text has more sentences than the aligner was allowed to take (``max_sentences``)."""

    def __init__(self, side: str, count: int, limit: int):
        self.side, self.count, self.limit = side, count, limit
        super().__init__(
            f"text {side} has {count:,} sentences; the limit is {limit:,}: "
            "split the article, or raise the limit"
        )


def _split(side: str, text: str, max_sentences: int | None) -> tuple[SentenceSpan, ...]:
    spans = tuple(split_sentences(text))
    if max_sentences is not None and len(spans) > max_sentences:
        raise TooManySentences(side, len(spans), max_sentences)
    return spans


def align(
    a_text: str,
    b_text: str,
    params: AlignParams | None = None,
    *,
    max_sentences: int | None = None,
) -> Alignment:
    """Align the sentences of ``a_text`` with those of ``b_text``.

    ``max_sentences``: refuse (``TooManySentences``) a text with more
    sentences, once both are split and before any pair is scored.
    """
    params = params or AlignParams()
    spans_a, spans_b = _split("a", a_text, max_sentences), _split("b", b_text, max_sentences)
    sa, sb = Side.of(a_text, spans_a), Side.of(b_text, spans_b)
    na, nb = len(sa.spans), len(sb.spans)
    scores = score(sa, sb, params) if na and nb else Scores.empty(na, nb)
    pairs = pair_up(scores, sa, sb, params)
    labels = label_pairs(pairs, sa, sb, params)
    side_a = side_sentences(sa, labels.a, labels.diff_a, "omitted", scores.best_a, labels.context_a)
    side_b = side_sentences(sb, labels.b, labels.diff_b, "added", scores.best_b, labels.context_b)
    return Alignment(side_a, side_b, summarise(side_a, side_b, params))
