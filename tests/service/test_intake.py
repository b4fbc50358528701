"""service.intake: what a body must be, and the article it becomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from service.intake import ArticleBody, Rejected, normalise_id, timestamp_string, to_article

TEXT = "The council approved the new budget on Tuesday after a long debate."


def test_a_text_body_becomes_the_article_as_sent() -> None:
    body = ArticleBody(id="a-1", text=TEXT, title="T", source="S", url="https://x.test/a")
    article = to_article(body, max_text_chars=1000)
    assert (article.id, article.text, article.title, article.source, article.url) == (
        "a-1", TEXT, "T", "S", "https://x.test/a",
    )  # fmt: skip


def test_an_html_body_is_extracted_and_gives_its_title() -> None:
    html = (
        "<html><head><title>Budget passes</title></head><body><article>"
        + "".join(f"<p>{TEXT} Paragraph {i} adds more words to the story.</p>" for i in range(6))
        + "</article></body></html>"
    )
    article = to_article(ArticleBody(html=html), max_text_chars=100_000)
    assert "council approved" in article.text and "<p>" not in article.text
    assert article.title


def test_a_page_without_an_article_is_rejected_422() -> None:
    with pytest.raises(Rejected) as err:
        to_article(ArticleBody(html="<html><body><nav>menu</nav></body></html>"), max_text_chars=99)
    assert err.value.status == 422


def test_a_text_over_the_limit_is_rejected_413() -> None:
    with pytest.raises(Rejected) as err:
        to_article(ArticleBody(text=TEXT), max_text_chars=10)
    assert err.value.status == 413 and "COPYDESK_MAX_TEXT_CHARS" in str(err.value)


@pytest.mark.parametrize(
    "fields",
    [
        {},  # neither text nor html
        {"text": TEXT, "html": "<p>x</p>"},
        {"text": "   "},
        {"text": TEXT, "url": "javascript:alert(1)"},
        {"text": TEXT, "id": "has space"},
        {"text": TEXT, "published_at": 1730383500},
        {"text": TEXT, "published_at": "2024"},
        {"text": TEXT, "extra": 1},
    ],
)
def test_bodies_that_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ArticleBody.model_validate(fields)


def test_ids_are_nfkc_and_times_utc() -> None:
    body = ArticleBody(id="\ufb01le", text=TEXT, published_at="2024-05-01T14:00:00+02:00")  # type: ignore[arg-type]
    assert body.id == "file"
    assert body.published_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    naive = ArticleBody(text=TEXT, published_at="2024-05-01T12:00:00")  # type: ignore[arg-type]
    assert naive.published_at is not None and naive.published_at.tzinfo is UTC
    assert normalise_id(3) == 3
    assert timestamp_string(None) is None
    with pytest.raises(ValueError):
        timestamp_string(False)
