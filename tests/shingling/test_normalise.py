import pytest

from shingling.normalise import fold, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("People\u2019s", "people's"),
        ("\u201cQuote\u201d", '"quote"'),
        ("a\u2014b \u2013 c", "a-b - c"),
        ("\ufb01nal", "final"),  # NFKC expands the ligature
        ("STRASSE", "strasse"),
        ("Stra\u00dfe", "strasse"),  # casefold, not lower
        ("\uff21\uff22", "ab"),  # full-width letters
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_normalise_collapses_whitespace() -> None:
    assert normalise("  One\u00a0 two\n\n three\t") == "one two three"
