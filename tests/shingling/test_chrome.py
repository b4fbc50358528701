import pytest

from shingling.chrome import chrome_spans, mask_chrome, strip_chrome

BODY = (
    "The finance minister said on Tuesday that the budget would be presented next week.\n\n"
    "Opposition parties criticised the delay and demanded a debate in parliament.\n\n"
    "Officials said the figures were still being revised after the latest forecasts.\n"
)


@pytest.mark.parametrize(
    "chrome_line",
    [
        "ADVERTISEMENT",
        "Advertisement",
        "Continue reading below",
        "SCROLL TO CONTINUE WITH CONTENT",
        "Sponsored content",
        "Sign up for our newsletter",
        "Also Read",
        "3 min read",
        "BREAKING NEWS ALERT",  # shouting short line
    ],
)
def test_short_interface_lines_are_chrome(chrome_line: str) -> None:
    text = BODY.replace("\n\nOpposition", f"\n\n{chrome_line}\n\nOpposition")
    assert chrome_line not in strip_chrome(text)
    assert "Opposition parties criticised" in strip_chrome(text)


def test_article_sentences_are_kept() -> None:
    assert chrome_spans(BODY) == []


def test_mask_keeps_length_and_offsets() -> None:
    text = "ADVERTISEMENT\n" + BODY
    masked = mask_chrome(text)
    assert len(masked) == len(text)
    i = text.index("Opposition")
    assert masked[i : i + 10] == "Opposition"
    assert masked.startswith(" " * len("ADVERTISEMENT") + "\n")


def test_repeated_short_widget_lines_are_chrome() -> None:
    widget = "Want the short version?\nTap here for it\n"
    text = widget + BODY + widget
    stripped = strip_chrome(text)
    assert "short version" not in stripped and "Tap here" not in stripped


def test_trailing_teaser_list_is_cut() -> None:
    tail = (
        "\nMore Stories\n"
        "Floods force thousands from homes in the north\n"
        "Business // 2 hours ago\n"
        "Floods force thousands from homes in the north\n"
        "Central bank holds rates steady for third month\n"
        "Business // 4 hours ago\n"
        "Central bank holds rates steady for third month\n"
    )
    stripped = strip_chrome(BODY + tail)
    assert "Floods" not in stripped and "More Stories" not in stripped
    assert stripped.endswith("latest forecasts.")


def test_related_heading_inside_article_does_not_cut_prose() -> None:
    # A list heading followed by real paragraphs is not a teaser block.
    text = BODY + "\nRelated\n" + BODY.replace("finance", "health") * 2
    assert "health minister said" in strip_chrome(text)


def test_seed_chrome(seed_texts: dict[str, str]) -> None:
    assert "COMMERCIAL BREAK" not in strip_chrome(seed_texts["001"])
    assert "Get a summary" not in strip_chrome(seed_texts["002"])
    assert "Nordic storm" not in strip_chrome(seed_texts["002"])
    s3 = strip_chrome(seed_texts["003"])
    assert "King Charles III" not in s3 and "Latest Headlines" not in s3
    assert "Dmitry Peskov" in s3
    assert strip_chrome(seed_texts["000"]) == seed_texts["000"].strip()


def test_line_breaks_are_where_splitlines_breaks() -> None:
    from shingling.chrome import LINE_BREAKS

    breaking = [chr(c) for c in range(0x10000) if len(f"a{chr(c)}b".splitlines()) == 2]
    assert "".join(breaking) == LINE_BREAKS
