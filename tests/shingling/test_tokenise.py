import pytest

from shingling.tokenise import quote_spans, tokenise, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", ["hello", "world"]),
        ("People\u2019s Republic", ["people's", "republic"]),
        ("some 10,000 troops", ["some", "10,000", "troops"]),
        ("Cho Tae-yul said", ["cho", "tae-yul", "said"]),
        ("the U.S. said", ["the", "u.s", "said"]),
        ("3.5 per cent", ["3.5", "per", "cent"]),
        ("coincidental--they", ["coincidental", "they"]),
        ("", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_offsets_point_into_original_text() -> None:
    text = "ADVERTISEMENT\nThe \u201cQuick\u201d fox\u2019s run."
    toks = tokenise(text)
    assert toks.values == ("the", "quick", "fox's", "run")
    for value, s, e in zip(toks.values, toks.starts, toks.ends, strict=True):
        assert text[s:e].casefold().replace("\u2019", "'") == value


def test_quotes_marked() -> None:
    text = 'He said, "We will go now." Then he left.'
    toks = tokenise(text)
    quoted = [v for v, q in zip(toks.values, toks.quoted, strict=True) if q]
    assert quoted == ["we", "will", "go", "now"]


def test_unclosed_quote_runs_to_paragraph_end() -> None:
    text = '"First paragraph of a long quote.\n\n"Second paragraph," he said. Then more.'
    spans = quote_spans(text)
    assert spans[0] == (0, text.index("\n\n"))
    assert text[spans[1][0] : spans[1][1]] == '"Second paragraph,"'


def test_unclosed_quote_not_reopened_is_a_stray() -> None:
    # No next paragraph opens with a mark: nothing of the first one is quoted.
    text = 'He said "unclosed quote runs on\n\nNext "para" here.'
    assert [text[s:e] for s, e in quote_spans(text)] == ['"para"']
    assert quote_spans('Then "more') == []


def test_emptied_link_text_does_not_open_a_quote() -> None:
    # Scraped pages keep the marks of a removed link text; a truncated blurb
    # leaves one unclosed. Neither may quote the rest of the page.
    text = (
        'Movavi was formed "by a group of experts... Continue reading "" Which plans '
        'are best? Sam calls a store and claims a computer. He said "no" twice.'
    )
    spans = [text[s:e] for s, e in quote_spans(text)]
    assert spans == ['""', '"no"']
    toks = tokenise(text)
    quoted = [v for v, q in zip(toks.values, toks.quoted, strict=True) if q]
    assert quoted == ["no"]


def test_quote_over_lines_reopened_keeps_its_first_line() -> None:
    text = '"I think that is fair. You hear it.\n"When this happened, it hurt," he said.'
    spans = [text[s:e] for s, e in quote_spans(text)]
    assert spans == ['"I think that is fair. You hear it.', '"When this happened, it hurt,"']


def test_marks_are_read_by_their_sides() -> None:
    # An inch mark closes nothing open and opens nothing; German quotes pair.
    assert quote_spans('a 12" screen') == []
    text = "\u201eHallo\u201c, sagte er."
    assert [text[s:e] for s, e in quote_spans(text)] == ["\u201eHallo\u201c"]
    text = 'She said:"Go." Then, "stay," he said.'
    assert [text[s:e] for s, e in quote_spans(text)] == ['"Go."', '"stay,"']


def test_index_tokens_equal_tokenise(seed_texts: dict[str, str]) -> None:
    from shingling.tokenise import index_tokens

    samples = [
        *seed_texts.values(),
        'He said "unclosed quote runs on\n\nNext "para" here.',
        '"Whole text quoted."',
        "",
        "ADVERTISEMENT",
        'NUL\x00inside "a\x00quote" here',
    ]
    for text in samples:
        toks = tokenise(text)
        tokens = index_tokens(text)
        values, quoted = tokens.values, tokens.quoted
        assert values == list(toks.values)
        assert quoted.tolist() == toks.quoted.tolist()


def test_index_tokens_outside_the_basic_plane() -> None:
    from shingling.tokenise import index_tokens

    # A letter beyond U+FFFF is a word character; an emoji is not.
    text = "\U00020000\U00020001 ab \U0001f600 cd\U0001f600ef \U00010400x"
    assert index_tokens(text).values == ["\U00020000\U00020001", "ab", "cd", "ef", "\U00010428x"]
