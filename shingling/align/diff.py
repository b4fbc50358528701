"""Word diffs of a matched group: which runs of words are equal, replaced,
deleted or inserted, as offsets into each side's whole text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from shingling.align.sides import Side

OpKind = Literal["equal", "replace", "delete", "insert"]

#: difflib's opcodes: (tag, a start, a end, b start, b end).
Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class WordOp:
    """A run of words of one sentence and how it relates to the counterpart.

    ``op``: ``equal`` (also in the counterpart, in order), ``replace``
    (changed words), ``delete`` (only in ``a``), ``insert`` (only in ``b``).
    ``start``/``end`` are offsets into that side's whole text.
    """

    op: OpKind
    start: int
    end: int
    text: str


def side_ops(opcodes: Sequence[Opcode], which: int) -> list[tuple[OpKind, int, int]]:
    """Token ranges of one side (``which`` 0 = a, 1 = b) from difflib opcodes."""
    out: list[tuple[OpKind, int, int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        lo, hi = (i1, i2) if which == 0 else (j1, j2)
        if hi > lo:
            out.append((cast(OpKind, tag), lo, hi))
    return out


def add_ops(
    side: Side, toks: Sequence[tuple[int, int]], tag: OpKind, diffs: dict[int, list[WordOp]]
) -> None:
    """Append one op per sentence for a run of tokens (a run can cross sentences)."""
    run: list[tuple[int, int]] = []
    for item in [*toks, None]:
        if run and (item is None or item[0] != run[0][0]):
            start = int(side.tokens.starts[run[0][1]])
            end = int(side.tokens.ends[run[-1][1]])
            diffs.setdefault(run[0][0], []).append(WordOp(tag, start, end, side.text[start:end]))
            run = []
        if item is not None:
            run.append(item)


def group_diffs(
    codes: Sequence[Opcode],
    side: Side,
    toks: Sequence[tuple[int, int]],
    which: int,
    diffs: dict[int, list[WordOp]],
) -> None:
    """Add to ``diffs`` (by sentence of ``side``) the ops of one side of a matched
    group, whose tokens ``toks`` (sentence, token index) the opcodes index."""
    for tag, lo, hi in side_ops(codes, which):
        add_ops(side, toks[lo:hi], tag, diffs)
