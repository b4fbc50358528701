"""shingling.align.sides: a text's sentences mapped onto its tokens."""

from __future__ import annotations

from shingling.align.sides import Side
from shingling.sentences import split_sentences


def test_each_sentence_knows_its_tokens() -> None:
    text = "Troops left Kursk. They left, they said, on Monday."
    side = Side.of(text, tuple(split_sentences(text)))
    assert len(side.spans) == 2
    assert side.bounds[0][1] == side.bounds[1][0]  # consecutive, no token lost
    assert [t.lower() for t in side.values(0)] == ["troops", "left", "kursk"]
    assert side.lengths().tolist() == [3, 6]
    assert side.types().tolist() == [3, 5]  # "they" / "They" fold together
    assert side.group_tokens([1, 0])[:2] == [(0, 0), (0, 1)]
    assert len(side.group_tokens([0, 1])) == 9
