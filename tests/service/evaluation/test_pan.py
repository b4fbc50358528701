"""PAN 2013 evaluation on a miniature corpus the test writes itself."""

from __future__ import annotations

from pathlib import Path

from service.evaluation import pan

SOURCE = (
    "The harbour authority opened a new container terminal on the east side of the port. "
    "Officials expect the terminal to handle two million containers a year by 2030. "
    "The project cost 400 million euros and took six years to build. "
    "Environmental groups criticised the dredging of the bay during construction. "
    "Local fishermen said their catches fell sharply while the work went on."
)
PASSAGE = (
    "Officials expect the terminal to handle two million containers a year by 2030. "
    "The project cost 400 million euros and took six years to build."
)
OWN = (
    "My grandmother grew tomatoes and beans in a small garden behind the house. "
    "Every summer we picked them together and made sauce for the winter. "
    "She kept the jars in a cool cellar under the kitchen floor. "
)
TAIL = "The garden is a car park now, and the cellar has been filled with concrete."
UNRELATED = (
    "The orchestra rehearsed the symphony for three weeks before the premiere. "
    "Critics praised the conductor for the slow movement. "
    "Tickets for the second night sold out within an hour."
)


def write_corpus(root: Path) -> None:
    for d in ("src", "susp", *pan.SUBSETS):
        (root / d).mkdir(parents=True)
    (root / "src" / "source-document00001.txt").write_text(SOURCE, encoding="utf-8")
    susp = OWN + PASSAGE + " " + TAIL
    (root / "susp" / "suspicious-document00001.txt").write_text(susp, encoding="utf-8")
    (root / "susp" / "suspicious-document00002.txt").write_text(UNRELATED, encoding="utf-8")
    this, src = susp.index(PASSAGE), SOURCE.index(PASSAGE)
    (root / "02-no-obfuscation" / "suspicious-document00001-source-document00001.xml").write_text(
        '<document reference="suspicious-document00001.txt">\n'
        f'<feature name="plagiarism" obfuscation="none" source_length="{len(PASSAGE)}" '
        f'source_offset="{src}" source_reference="source-document00001.txt" '
        f'this_length="{len(PASSAGE)}" this_offset="{this}" type="artificial" />\n</document>\n',
        encoding="utf-8",
    )
    (root / "01-no-plagiarism" / "suspicious-document00002-source-document00001.xml").write_text(
        '<document reference="suspicious-document00002.txt">\n</document>\n', encoding="utf-8"
    )
    # A summary pair without annotation: not a negative, skipped.
    (
        root / "05-summary-obfuscation" / "suspicious-document00002-source-document00001.xml"
    ).write_text(
        '<document reference="suspicious-document00002.txt">\n</document>\n', encoding="utf-8"
    )


def test_load_and_select(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    pairs = pan.load(tmp_path)
    assert len(pairs) == 3
    assert sum(not p.annotated for p in pairs) == 1
    chosen = pan.select(pairs, limit=None, sample=False)
    assert {p.subset for p in chosen} == {"01-no-plagiarism", "02-no-obfuscation"}
    (case,) = next(p for p in chosen if p.subset == "02-no-obfuscation").cases
    assert case.obfuscation == "none" and case.this_end - case.this_start == len(PASSAGE)


def test_gold_class_needs_half_the_sentence() -> None:
    cases = [pan.Case("random", 100, 200, 0, 100)]
    assert pan.gold_class(100, 150, cases) == "random"
    assert pan.gold_class(60, 140, cases) == "random"  # exactly half inside
    assert pan.gold_class(40, 130, cases) == "outside"
    assert pan.gold_class(300, 400, cases) == "outside"


def test_evaluate_mini_corpus(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    chosen = pan.select(pan.load(tmp_path), limit=None, sample=False)
    report = pan.evaluate(chosen, skipped=1)
    assert report.pairs == 2 and report.skipped == 1
    assert report.confusion["none"] == {"copied": 2}
    assert report.rate("outside", "added") == 1.0
    assert report.pair_flags == {"01-no-plagiarism": (0, 1), "02-no-obfuscation": (1, 1)}
    m = report.chars["02-no-obfuscation"]
    assert (m.cases, m.detections, m.granularity) == (1, 1, 1.0)
    assert m.precision > 0.95 and m.recall > 0.95 and m.plagdet > 0.95


def test_char_measures_granularity_and_precision() -> None:
    case = pan.Case("none", 0, 100, 1000, 1100)
    whole = pan.PairResult("s", (), (case,), (pan.Detection(0, 100, 1000, 1100),))
    assert pan.char_measures([whole]).plagdet == 1.0
    split = pan.PairResult(
        "s", (), (case,), (pan.Detection(0, 50, 1000, 1050), pan.Detection(50, 100, 1050, 1100))
    )
    m = pan.char_measures([split])
    assert m.granularity == 2.0 and m.recall == 1.0 and m.precision == 1.0
    assert abs(m.plagdet - 1 / 1.5849625) < 1e-6  # F1 / log2(3)
    wrong_source = pan.PairResult("s", (), (case,), (pan.Detection(0, 100, 0, 100),))
    m = pan.char_measures([wrong_source])
    assert m.recall == 0.0 and m.precision == 0.0  # overlaps in one document only
