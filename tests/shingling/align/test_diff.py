"""shingling.align.diff: word ops as offsets into each side's text."""

from __future__ import annotations

from shingling.align.diff import WordOp, add_ops, group_diffs, side_ops
from shingling.align.sides import Side
from shingling.sentences import split_sentences

CODES = [("equal", 0, 2, 0, 2), ("replace", 2, 3, 2, 4), ("delete", 3, 4, 4, 4)]


def test_side_ops_keep_each_sides_nonempty_ranges() -> None:
    assert side_ops(CODES, 0) == [("equal", 0, 2), ("replace", 2, 3), ("delete", 3, 4)]
    assert side_ops(CODES, 1) == [("equal", 0, 2), ("replace", 2, 4)]


def test_a_run_across_sentences_gives_one_op_per_sentence() -> None:
    text = "One two three. Four five."
    side = Side.of(text, tuple(split_sentences(text)))
    diffs: dict[int, list[WordOp]] = {}
    add_ops(side, side.group_tokens([0, 1])[1:4], "insert", diffs)
    assert diffs == {
        0: [WordOp("insert", 4, 13, "two three")],
        1: [WordOp("insert", 15, 19, "Four")],
    }


def test_group_diffs_cover_the_group() -> None:
    text = "Officials said 12,000 soldiers arrived."
    side = Side.of(text, tuple(split_sentences(text)))
    diffs: dict[int, list[WordOp]] = {}
    codes = [("equal", 0, 2, 0, 2), ("replace", 2, 3, 2, 3), ("equal", 3, 5, 3, 5)]
    group_diffs(codes, side, side.group_tokens([0]), 1, diffs)
    assert [(op.op, op.text) for op in diffs[0]] == [
        ("equal", "Officials said"),
        ("replace", "12,000"),
        ("equal", "soldiers arrived"),
    ]
    assert all(text[op.start : op.end] == op.text for op in diffs[0])
