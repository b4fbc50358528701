"""What each sentence is: copied, paraphrased, added or omitted, and what the
whole of ``b`` is (``rewrite_degree``).

* ``copied``: the same sentence up to small edits (token sequence similarity
  of the pair at least ``AlignParams.copied_ratio``), or a verbatim excerpt
  of it (``AlignParams.excerpt_share``);
* ``paraphrased``: the same content reworded (the pair decision says "same",
  the words differ more);
* ``omitted`` (only in ``a``) / ``added`` (only in ``b``): no counterpart.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from shingling.align.diff import Opcode, WordOp, group_diffs
from shingling.align.features import feature_names, pair_features
from shingling.align.model import AlignParams, decide, probability
from shingling.align.pairing import Pairs
from shingling.align.sides import Side
from shingling.sentences import SentenceSpan, ends_like_sentence
from shingling.tokenise import Tokens, words

Label = Literal["copied", "paraphrased", "added", "omitted"]
Rewritten = Literal["verbatim", "light", "heavy"]

#: A matched sentence's label, partner, score and whether it is a shared quotation.
Labelled = tuple[Label, int, float, bool]


@dataclass(frozen=True)
class Sentence:
    """One aligned sentence. ``match``: index of the counterpart in the other
    text (the main partner of a split/merged group), or None. ``score``: the
    pair probability for a matched pair, the containment for an extra member
    of a group, and the best probability against any sentence when
    unmatched."""

    index: int
    text: str
    start: int
    end: int
    label: Label
    match: int | None
    score: float
    quote: bool = False
    diff: tuple[WordOp, ...] = ()
    #: Taken in by the context pass (inside or at the edge of a reused
    #: passage, ``pairing.context_partners``), not by the pair decision alone.
    context: bool = False


@dataclass(frozen=True)
class Summary:
    """Sentence counts. ``copied`` and ``paraphrased`` count sentences of
    ``b`` (how much of the new text comes from ``a``); ``added`` counts
    sentences of ``b``, ``omitted`` sentences of ``a``.

    Document level (``rewrite_degree``): ``reused`` counts the sentences of
    ``b`` copied or paraphrased outside shared quotations; ``paraphrase_share``
    is the paraphrased part of those; ``rewritten`` says whether ``b`` is a
    copy of ``a`` and how much it was reworded, or None when it is not one.
    """

    copied: int
    paraphrased: int
    added: int
    omitted: int
    reused: int = 0
    paraphrase_share: float = 0.0
    rewritten: Rewritten | None = None


@dataclass(frozen=True)
class Alignment:
    a: tuple[Sentence, ...]
    b: tuple[Sentence, ...]
    summary: Summary


@dataclass(frozen=True)
class PairDecision:
    """``pair_decision``'s answer: ``probability`` that both say the same
    thing, ``same`` (probability at or above the threshold), ``copied``
    (same and nearly the same words) and the raw ``features``."""

    probability: float
    same: bool
    copied: bool
    features: dict[str, float] = field(default_factory=dict)


def copied(matcher: difflib.SequenceMatcher[str], na: int, nb: int, params: AlignParams) -> bool:
    """Nearly the same words in the same order, or a verbatim excerpt: all
    but a few words of the shorter side appear, in order, in the longer
    (an outlet that cuts a wire sentence short still copies it)."""
    if matcher.ratio() >= params.copied_ratio:
        return True
    equal = sum(block.size for block in matcher.get_matching_blocks())
    shorter = min(na, nb)
    return shorter >= params.min_words and equal >= params.excerpt_share * shorter


def pair_decision(
    s1: str, s2: str, params: AlignParams | None = None, context: Sequence[str] = ()
) -> PairDecision:
    """The aligner's decision on one sentence pair (used to evaluate on MRPC)."""
    params = params or AlignParams()
    feats = pair_features([s1], [s2], context, semantic=params.semantic)
    p = probability(feats, params)
    w1, w2 = words(s1), words(s2)
    same = bool(decide(p, feats, np.array([min(len(w1), len(w2))]), params)[0])
    matcher = difflib.SequenceMatcher(None, w1, w2, autojunk=False)
    is_copied = same and copied(matcher, len(w1), len(w2), params)
    named = dict(zip(feature_names(params.semantic), map(float, feats[0]), strict=True))
    return PairDecision(float(p[0]), same, is_copied, named)


def is_quote(
    codes: Sequence[Opcode],
    tok_a: Tokens,
    ta: Sequence[tuple[int, int]],
    tok_b: Tokens,
    tb: Sequence[tuple[int, int]],
    share: float,
) -> bool:
    """Whether the shared words of a pair are mostly inside direct quotes
    (on either side: a quotation one outlet prints and the other reports
    without marks is still the speaker's words)."""
    shared = quoted = 0
    for tag, i1, i2, j1, _ in codes:
        if tag != "equal":
            continue
        shared += i2 - i1
        quoted += sum(
            bool(tok_a.quoted[ta[i1 + k][1]] or tok_b.quoted[tb[j1 + k][1]]) for k in range(i2 - i1)
        )
    return shared > 0 and quoted / shared >= share


@dataclass
class Labels:
    """Labels and word diffs of the paired sentences of each side, by index."""

    a: dict[int, Labelled] = field(default_factory=dict)
    b: dict[int, Labelled] = field(default_factory=dict)
    diff_a: dict[int, list[WordOp]] = field(default_factory=dict)
    diff_b: dict[int, list[WordOp]] = field(default_factory=dict)
    context_a: set[int] = field(default_factory=set)
    context_b: set[int] = field(default_factory=set)


def _compare_groups(
    sa: Side, group_a: list[int], sb: Side, group_b: list[int], params: AlignParams
) -> tuple[Label, bool, Sequence[Opcode], list[tuple[int, int]], list[tuple[int, int]]]:
    """The label of two groups of sentences, whether they are a shared
    quotation, and their word opcodes over the tokens of each group."""
    ta, tb = sa.group_tokens(group_a), sb.group_tokens(group_b)
    va = [sa.tokens.values[t] for _, t in ta]
    vb = [sb.tokens.values[t] for _, t in tb]
    matcher = difflib.SequenceMatcher(None, va, vb, autojunk=False)
    codes = matcher.get_opcodes()
    label: Label = "copied" if copied(matcher, len(va), len(vb), params) else "paraphrased"
    quote = is_quote(codes, sa.tokens, ta, sb.tokens, tb, params.quote_share)
    return label, quote, codes, ta, tb


def _label_shared(pairs: Pairs, sa: Side, sb: Side, params: AlignParams, out: Labels) -> None:
    """Label each sentence that shares a taken partner against that partner
    alone, and diff only its own words (the partner keeps its main diff)."""
    for x, j in pairs.shared_a.items():
        label, quote, codes, ta, _ = _compare_groups(sa, [x], sb, [j], params)
        group_diffs(codes, sa, ta, 0, out.diff_a)
        out.a[x] = (label, j, pairs.evidence[x, j], quote)
        out.context_a.add(x)
    for y, i in pairs.shared_b.items():
        label, quote, codes, _, tb = _compare_groups(sa, [i], sb, [y], params)
        group_diffs(codes, sb, tb, 1, out.diff_b)
        out.b[y] = (label, i, pairs.evidence[i, y], quote)
        out.context_b.add(y)


def label_pairs(pairs: Pairs, sa: Side, sb: Side, params: AlignParams) -> Labels:
    """Label each group of paired sentences as a whole (``copied`` or
    ``paraphrased``, a shared quotation or not) and diff its words; then
    each sentence sharing a taken partner (``Pairs.shared_a``/``shared_b``)."""
    out = Labels()
    for i, j, group_a, group_b in pairs.groups():
        label, quote, codes, ta, tb = _compare_groups(sa, group_a, sb, group_b, params)
        group_diffs(codes, sa, ta, 0, out.diff_a)
        group_diffs(codes, sb, tb, 1, out.diff_b)
        for x in group_a:
            score = pairs.evidence[i, j] if x == i else pairs.cont_a[x, j]
            out.a[x] = (label, j, score, quote)
        for y in group_b:
            score = pairs.evidence[i, j] if y == j else pairs.cont_b[y, i]
            out.b[y] = (label, i, score, quote)
    _label_shared(pairs, sa, sb, params, out)
    return out


def sentence(
    k: int,
    span: SentenceSpan,
    labelled: Labelled | None,
    unmatched: Label,
    best: float,
    diff: Sequence[WordOp],
    context: bool = False,
) -> Sentence:
    """Sentence ``k`` of a side: labelled, or ``unmatched`` with its best probability."""
    if labelled is None:
        return Sentence(k, span.text, span.start, span.end, unmatched, None, round4(best))
    label, match, score, quote = labelled
    ops = tuple(sorted(diff, key=lambda op: op.start))
    return Sentence(
        k, span.text, span.start, span.end, label, match, round4(score), quote, ops, context
    )


def side_sentences(
    side: Side,
    labelled: dict[int, Labelled],
    diffs: dict[int, list[WordOp]],
    unmatched: Label,
    best: np.ndarray,
    context: set[int] | frozenset[int] = frozenset(),
) -> tuple[Sentence, ...]:
    """Every sentence of ``side``, in order (``context``: those the context pass took in)."""
    return tuple(
        sentence(k, span, labelled.get(k), unmatched, best[k], diffs.get(k, []), k in context)
        for k, span in enumerate(side.spans)
    )


def rewrite_degree(
    b: Sequence[Sentence], params: AlignParams | None = None
) -> tuple[int, float, Rewritten | None]:
    """Whether ``b`` is a copy of ``a`` and how much it was reworded, from ``b``'s labels.

    Counted: sentences of ``b`` copied or paraphrased, of at least
    ``params.min_words`` words, not a shared quotation (two independent
    reports quoting one speaker are not a copy) and not taken in by the
    context pass alone (``Sentence.context``: it extends a passage the pair
    decision found, and must not make one out of two same-topic sentences).
    A ``paraphrased`` line of fewer than ``params.heading_words`` words also
    has to end like a sentence (``sentences.ends_like_sentence``): two
    headings or navigation lines on one subject ("How to Prepare for a
    Telephone Interview" against "Job Interview Types") are not reworded
    copy; a copied heading still counts, and so does a longer reworded
    sentence whose end punctuation was lost (machine rewording moves it).
    ``b`` is a copy when at least
    ``params.copy_sentences`` such sentences of different words are found (a
    line ``b`` repeats, such as a credit, a caption or a footer, is one piece
    of evidence however often it recurs); then ``paraphrase_share``
    (the paraphrased part of them) below ``params.light_share`` is ``verbatim``,
    below ``params.heavy_share`` ``light``, else ``heavy``. Returns (sentences
    counted, paraphrase share, degree or None). The constants were chosen on
    PAN 2013 train pairs (``docs/quality.md``); a copy of fewer sentences, or
    one reworded beyond what the pair model recognises, is not found.
    """
    params = params or AlignParams()
    counted = [
        s
        for s in b
        if s.label in ("copied", "paraphrased")
        and not s.quote
        and not s.context
        and len(words(s.text)) >= params.min_words
        and (s.label == "copied" or not _heading(s.text, params))
    ]
    if not counted:
        return 0, 0.0, None
    share = sum(s.label == "paraphrased" for s in counted) / len(counted)
    if len({tuple(words(s.text)) for s in counted}) < params.copy_sentences:
        return len(counted), share, None
    if share < params.light_share:
        return len(counted), share, "verbatim"
    return len(counted), share, "light" if share < params.heavy_share else "heavy"


def _heading(text: str, params: AlignParams) -> bool:
    """Whether ``text`` reads as a heading: shorter than ``params.heading_words``
    words and not ending like a sentence (``rewrite_degree`` does not count it
    when reworded)."""
    return len(words(text)) < params.heading_words and not ends_like_sentence(text)


def summarise(a: Sequence[Sentence], b: Sequence[Sentence], params: AlignParams) -> Summary:
    """The counts of an alignment and ``b``'s ``rewrite_degree``."""
    reused, share, degree = rewrite_degree(b, params)
    return Summary(
        copied=sum(s.label == "copied" for s in b),
        paraphrased=sum(s.label == "paraphrased" for s in b),
        added=sum(s.label == "added" for s in b),
        omitted=sum(s.label == "omitted" for s in a),
        reused=reused,
        paraphrase_share=round4(share),
        rewritten=degree,
    )


def round4(x: float) -> float:
    """``x`` to 4 decimals (0 for NaN), as the alignment reports scores."""
    return 0.0 if math.isnan(x) else round(float(x), 4)
