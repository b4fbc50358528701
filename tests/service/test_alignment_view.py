"""service.alignment_view: the side-by-side renderer (the page served at
/alignments/{a}/{b}/view: tests/service/api/routes/test_alignments.py)."""

from __future__ import annotations


def test_pieces_cut_at_changed_words_and_passages() -> None:
    from service.alignment_view import pieces
    from shingling.align import Sentence, WordOp

    text = "one two three four five"
    s = Sentence(
        index=0,
        text=text,
        start=10,
        end=10 + len(text),
        label="copied",
        match=0,
        score=0.9,
        diff=(WordOp("equal", 10, 17, "one two"), WordOp("replace", 18, 23, "three")),
    )
    got = pieces(s, [(14, 28)])  # passage 0 covers "two three four"
    assert "".join(p.text for p in got) == text
    assert [(p.text, p.op, p.passage) for p in got] == [
        ("one ", None, None),
        ("two ", None, 0),
        ("three", "replace", 0),
        (" four", None, 0),
        (" five", None, None),
    ]
    assert got[1].colour == "p0"


def test_a_page_written_to_a_file_marks_passages_and_links_nowhere(
    seed_texts: dict[str, str],
) -> None:
    from service.alignment_view import Meta, render
    from shingling.align import align

    page = render(align(seed_texts["000"], seed_texts["001"]), Meta("A", "a"), Meta("B", "b"))
    assert 'class="pass p0" data-passage="0"' in page
    assert 'href="/' not in page  # no link to pages a file does not have
    assert 'class="verdict' not in page  # scores come from an index: none here
