"""Sentence splitting on news copy: table-driven, offsets checked on every case."""

from __future__ import annotations

import pytest

from shingling.sentences import ends_like_sentence, split_sentences


def texts(raw: str) -> list[str]:
    spans = split_sentences(raw)
    for s in spans:
        assert raw[s.start : s.end] == s.text  # offsets point into the caller's text
    return [s.text for s in spans]


CASES = [
    pytest.param(
        "The U.S. Senate voted on Tuesday. It passed 51-49.",
        ["The U.S. Senate voted on Tuesday.", "It passed 51-49."],
        id="abbreviation-US",
    ),
    pytest.param(
        "The talks opened Oct. 23 in Seoul. They ended a day later.",
        ["The talks opened Oct. 23 in Seoul.", "They ended a day later."],
        id="month-abbreviation",
    ),
    pytest.param(
        "He met US Secretary of Defence Lloyd J. Austin III on Thursday. Nothing was agreed.",
        ["He met US Secretary of Defence Lloyd J. Austin III on Thursday.", "Nothing was agreed."],
        id="initials",
    ),
    pytest.param(
        "She is the No. 2 official at the ministry. She declined to comment.",
        ["She is the No. 2 official at the ministry.", "She declined to comment."],
        id="number-abbreviation",
    ),
    pytest.param(
        "Mr. Kim met Dr. Lee at 5 p.m. on Friday. Prices rose 2.5 per cent.",
        ["Mr. Kim met Dr. Lee at 5 p.m. on Friday.", "Prices rose 2.5 per cent."],
        id="titles-times-decimals",
    ),
    pytest.param(
        "SEOUL, Oct. 23 (UPI) -- South Korea's spy agency said troops had left. Seoul protested.",
        [
            "SEOUL, Oct. 23 (UPI) -- South Korea's spy agency said troops had left.",
            "Seoul protested.",
        ],
        id="dateline-inline",
    ),
    pytest.param(
        "SEOUL, Oct. 23 (UPI) --\nSouth Korea's spy agency said troops had left.",
        ["SEOUL, Oct. 23 (UPI) --\nSouth Korea's spy agency said troops had left."],
        id="dateline-own-line",
    ),
    pytest.param(
        'Blinken said, "We now assess 10,000 soldiers. We expect them to fight." He left.',
        ['Blinken said, "We now assess 10,000 soldiers.', 'We expect them to fight."', "He left."],
        id="multi-sentence-quote-straight",
    ),
    pytest.param(
        "He added, \u201cRussia is desperate. Putin is weak.\u201d Officials agreed.",
        ["He added, \u201cRussia is desperate.", "Putin is weak.\u201d", "Officials agreed."],
        id="multi-sentence-quote-curly",
    ),
    pytest.param(
        'Putin is "throwing Russians in a meat grinder," he said. It was blunt.',
        ['Putin is "throwing Russians in a meat grinder," he said.', "It was blunt."],
        id="quote-fragment-not-split",
    ),
    pytest.param(
        "North Korea sends troops to Russia\nBy Jane Doe\nSeoul said on Friday that troops left.",
        [
            "North Korea sends troops to Russia",
            "By Jane Doe",
            "Seoul said on Friday that troops left.",
        ],
        id="headline-byline",
    ),
    pytest.param(
        "The first paragraph ends here.\n\n(With ANI Inputs)",
        ["The first paragraph ends here.", "(With ANI Inputs)"],
        id="credit-line",
    ),
    pytest.param(
        "The first line of a wrapped text goes\non and on without a break until the\n"
        "sentence ends here. The next one starts\nhere and is wrapped the same\nway too.\n"
        "A third sentence is short.",
        [
            "The first line of a wrapped text goes\non and on without a break until the\n"
            "sentence ends here.",
            "The next one starts\nhere and is wrapped the same\nway too.",
            "A third sentence is short.",
        ],
        id="hard-wrapped",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_split(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected


def test_chrome_lines_are_not_sentences() -> None:
    raw = (
        "Troops arrived in Kursk on Monday, officials said.\n\nADVERTISEMENT\n"
        "SCROLL TO CONTINUE READING\n\nThe deployment was confirmed by NATO."
    )
    assert texts(raw) == [
        "Troops arrived in Kursk on Monday, officials said.",
        "The deployment was confirmed by NATO.",
    ]


def test_empty_and_blank() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n \t ") == []


def test_seed_offsets(seed_texts: dict[str, str]) -> None:
    for raw in seed_texts.values():
        spans = split_sentences(raw)
        assert spans
        assert all(raw[s.start : s.end] == s.text for s in spans)
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


def test_long_paragraph_is_segmented_a_window_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import shingling.sentences as sentences

    text = " ".join(
        f"Sentence number {k} ends here, said Mr. Smith of the U.S. Army." for k in range(600)
    )
    seen: list[int] = []
    real = sentences._segmenter()

    class Recording:
        def segment(self, block: str) -> list[str]:
            seen.append(len(block))
            return real.segment(block)

    monkeypatch.setattr(sentences, "_segmenter", lambda: Recording())
    spans = sentences.split_sentences(text)
    assert len(text) > sentences.LONG_BLOCK > sentences.WINDOW >= max(seen)
    assert len(spans) == 600
    assert all(s.text.startswith("Sentence number") and s.text.endswith("Army.") for s in spans)


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("It ran.", True),
        ("Really?", True),
        ('He said "no."  ', True),
        ("(See above.)", True),
        ("Spaying or Neutering is Good for...", True),
        ("Job Interview Types", False),  # a heading
        ("800score.com Prep Course", False),  # a dot inside, not at the end
        ("NEW DELHI (ANI)", False),  # a dateline
        ("", False),
    ],
)
def test_ends_like_sentence(text: str, ends: bool) -> None:
    assert ends_like_sentence(text) is ends
