"""shingling.align.labels: pair decision, copied vs paraphrased, quotes, rewrite degree."""

from __future__ import annotations

import difflib

import pytest

from shingling.align import FEATURES, AlignParams, Sentence, pair_decision, rewrite_degree
from shingling.align.diff import WordOp
from shingling.align.labels import copied, round4, sentence, summarise
from shingling.sentences import SentenceSpan

P1 = (
    "Blinken said about 10,000 North Korean soldiers are currently in Russia, "
    "with 8,000 deployed in the Kursk region."
)
OTHER = "Stock markets in Europe closed higher on Friday as energy shares rallied."


def test_pair_decision_matches_aligner() -> None:
    same = pair_decision(P1, P1.replace("currently", "now"))
    assert same.same and same.copied and same.probability > 0.9
    other = pair_decision(P1, OTHER)
    assert not other.same and not other.copied and other.probability < 0.1
    assert set(other.features) == set(FEATURES)
    # A fragment only matches when nearly word for word.
    assert not pair_decision("Longevity", "Longevity Project").same


def _copied(a: str, b: str) -> bool:
    x, y = a.split(), b.split()
    return copied(
        difflib.SequenceMatcher(None, x, y, autojunk=False), len(x), len(y), AlignParams()
    )


def test_copied_is_a_near_copy_or_a_verbatim_excerpt() -> None:
    long = "one two three four five six seven eight nine ten eleven twelve"
    assert _copied(long, long.replace("six", "6"))
    assert _copied(long, "one two three four five six")  # an excerpt, ratio 0.67
    assert not _copied(long, "one two three nine seven five eleven")
    assert not _copied("one two", "one two three four five six")  # too short to be an excerpt


_NTH = ("first", "second", "third", "fourth", "fifth")


def _b(*labels: str, quote: bool = False, text: str | None = None) -> list[Sentence]:
    """Sentences of ``b`` with these labels, each of its own words unless ``text`` is given."""
    texts = [text or f"The {_NTH[k]} sentence here." for k in range(len(labels))]
    return [
        Sentence(k, t, 0, len(t), lab, None, 0.9, quote)  # type: ignore[arg-type]
        for k, (t, lab) in enumerate(zip(texts, labels, strict=True))
    ]


@pytest.mark.parametrize(
    ("b", "expected"),
    [
        (_b("added", "added"), (0, 0.0, None)),
        (_b("copied", "added"), (1, 0.0, None)),  # one sentence is not a copy
        (_b("copied", "copied", "added"), (2, 0.0, "verbatim")),
        (_b("copied", "copied", "copied", "paraphrased"), (4, 0.25, "light")),
        (_b("copied", "paraphrased", "paraphrased", "paraphrased"), (4, 0.75, "heavy")),
        (_b("copied", "paraphrased", quote=True), (0, 0.0, None)),  # shared quotations
        (_b("copied", "copied", text="Too short."), (0, 0.0, None)),  # fragments
        # One line that b repeats (a credit under every track) is one sentence's evidence.
        (_b("copied", "copied", "paraphrased", text="Lead vocal: Neil Young."), (3, 1 / 3, None)),
    ],
)
def test_rewrite_degree(b: list[Sentence], expected: tuple[int, float, str | None]) -> None:
    assert rewrite_degree(b) == expected


def test_summary_counts_b_and_the_omitted_of_a() -> None:
    a = _b("copied", "omitted", "omitted")
    b = _b("copied", "paraphrased", "paraphrased", "added")
    s = summarise(a, b, AlignParams())
    assert (s.copied, s.paraphrased, s.added, s.omitted) == (1, 2, 1, 2)
    assert (s.reused, s.paraphrase_share, s.rewritten) == (3, 0.6667, "light")


def test_sentence_is_labelled_or_unmatched() -> None:
    span = SentenceSpan(10, 20, "Some text.")
    ops = [WordOp("equal", 15, 20, "text."), WordOp("replace", 10, 14, "Some")]
    got = sentence(3, span, ("paraphrased", 7, 0.123456, True), "added", 0.0, ops)
    assert (got.label, got.match, got.score, got.quote) == ("paraphrased", 7, 0.1235, True)
    assert [op.start for op in got.diff] == [10, 15]  # in text order
    lone = sentence(3, span, None, "added", 0.3333333, ops)
    assert (lone.label, lone.match, lone.score, lone.diff) == ("added", None, 0.3333, ())


def test_round4_reads_nan_as_zero() -> None:
    assert round4(float("nan")) == 0.0 and round4(0.123456) == 0.1235


def test_context_sentences_do_not_make_a_copy() -> None:
    def s(k: int, label: str, context: bool) -> Sentence:
        text = f"one two three four {_NTH[k]}."
        return Sentence(k, text, 0, len(text), label, 0, 0.5, context=context)  # type: ignore[arg-type]

    found = [s(0, "paraphrased", False), s(1, "paraphrased", True)]
    assert rewrite_degree(found) == (1, 1.0, None)  # one sentence found by the model alone
    assert rewrite_degree([s(0, "paraphrased", False), s(1, "copied", False)])[2] == "light"


def test_reworded_headings_do_not_make_a_copy() -> None:
    """Two headings on one subject, paired as paraphrases (PAN 2013's
    no-plagiarism pairs), are not reworded copy; the same words ending as
    sentences are, and a copied heading still counts."""

    def s(k: int, text: str, label: str) -> Sentence:
        return Sentence(k, text, 0, len(text), label, k, 0.6)  # type: ignore[arg-type]

    headings = ["How to Prepare for a Telephone Interview", "Job Interview Types"]
    assert rewrite_degree([s(k, t, "paraphrased") for k, t in enumerate(headings)]) == (
        0,
        0.0,
        None,
    )
    sentences = [s(k, t + ".", "paraphrased") for k, t in enumerate(headings)]
    assert rewrite_degree(sentences) == (2, 1.0, "heavy")
    copied_heading = [s(0, headings[0], "copied"), sentences[1]]
    assert rewrite_degree(copied_heading) == (2, 0.5, "light")


def test_long_reworded_lines_count_without_an_end_mark() -> None:
    """A reworded sentence of ``heading_words`` words or more counts though its
    end mark was lost (machine rewording moves punctuation); a shorter one
    does not, and ``heading_words=0`` counts every line."""

    def s(k: int, text: str) -> Sentence:
        return Sentence(k, text, 0, len(text), "paraphrased", k, 0.6)  # type: ignore[arg-type]

    long_lines = [
        s(0, "the minister said on Tuesday that the talks would resume next week"),
        s(1, "officials of both sides are expected to meet in the capital"),
    ]
    assert rewrite_degree(long_lines)[2] == "heavy"
    short = [s(0, "Talks to resume next week"), long_lines[1]]
    assert rewrite_degree(short) == (1, 1.0, None)
    assert rewrite_degree(short, AlignParams(heading_words=0))[2] == "heavy"
    assert rewrite_degree(long_lines, AlignParams(heading_words=20)) == (0, 0.0, None)
