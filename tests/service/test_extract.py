"""service.extract: the article text and title of a raw HTML page, or None."""

from __future__ import annotations

from service.extract import extract_article

BODY = " ".join(
    f"Paragraph {i} of the report says the harbour terminal opened on Monday after six years."
    for i in range(6)
)


def test_the_article_and_its_title_are_kept_and_the_menu_dropped() -> None:
    html = (
        "<html><head><title>Harbour terminal opens</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>Harbour terminal opens</h1><p>{BODY}</p></article>"
        "<footer>Copyright the paper</footer></body></html>"
    )
    got = extract_article(html)
    assert got is not None
    assert "harbour terminal opened on Monday" in got.text
    assert "Copyright" not in got.text and "World" not in got.text
    assert got.title == "Harbour terminal opens"


def test_a_page_of_navigation_only_has_no_article() -> None:
    links = "".join(f"<li><a href='/{w}'>{w}</a></li>" for w in ("Home", "World", "Sport"))
    assert extract_article(f"<html><body><ul>{links}</ul></body></html>") is None
    assert extract_article("<html><body></body></html>") is None
