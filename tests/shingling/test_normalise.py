import random
import unicodedata

import numpy as np
import pytest

from shingling.normalise import FOLD_UNSAFE, FoldTable, fold, fold_table, normalise


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


def _table_fold(table: FoldTable, c: int) -> str:
    start = int(table.starts[c])
    return "".join(map(chr, table.chars[start : start + int(table.lengths[c])].tolist()))


def test_fold_table_folds_each_safe_character_as_fold_does() -> None:
    table = fold_table()
    safe = np.flatnonzero(table.lengths != FOLD_UNSAFE).tolist()
    assert len(safe) > 60_000  # all but combining marks, jamo and surrogates
    assert [c for c in safe if _table_fold(table, c) != fold(chr(c))] == []
    for unsafe in ("\u0301", "\u1161", "\ud800"):  # a combining mark, a vowel jamo, a surrogate
        assert table.lengths[ord(unsafe)] == FOLD_UNSAFE


def test_safe_characters_fold_alone_next_to_any_other() -> None:
    """The table's premise: a text of safe characters folds character by character."""
    table = fold_table()
    safe = np.flatnonzero(table.lengths != FOLD_UNSAFE).tolist()
    # The characters NFKC changes or that decompose are where folding in context could differ.
    tricky = [c for c in safe if unicodedata.decomposition(chr(c)) or fold(chr(c)) != chr(c)]
    rng = random.Random(7)
    pairs = [(rng.choice(tricky), rng.choice(tricky if i % 2 else safe)) for i in range(40_000)]
    wrong = [
        (a, b)
        for a, b in pairs
        if fold(chr(a) + chr(b)) != _table_fold(table, a) + _table_fold(table, b)
        or fold(chr(b) + chr(a)) != _table_fold(table, b) + _table_fold(table, a)
    ]
    assert wrong == []


def test_composites_above_the_bmp_have_no_second_half_in_it() -> None:
    """Why the table may look for composition partners in the BMP only."""
    for c in range(0x10000, 0x110000):
        parts = unicodedata.decomposition(chr(c)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            assert int(parts[1], 16) >= 0x10000, hex(c)
