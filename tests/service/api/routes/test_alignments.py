"""/alignments routes through FastAPI's TestClient, on a real Redis (conftest)."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

HOSTILE_TEXT = (
    'The minister said <script>alert("x")</script> was "not acceptable" & left.\n\n'
    "Talks on the trade deal resumed in Geneva on Monday after a two-week pause."
)


def post_article(api: TestClient, **body: str) -> None:
    r = api.post("/articles", json=body)
    assert r.status_code in (200, 201), r.text


def test_post_alignment_of_seeds(api: TestClient, seed_texts: dict[str, str]) -> None:
    r = api.post("/alignments", json={"a": seed_texts["000"], "b": seed_texts["001"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"a", "b", "summary"}
    assert set(body["summary"]) >= {"copied", "paraphrased", "added", "omitted"}
    assert set(body["summary"]) >= {"reused", "paraphrase_share", "rewritten"}
    labels_b = {s["label"] for s in body["b"]}
    assert labels_b <= {"copied", "paraphrased", "added"} and "copied" in labels_b
    assert {s["label"] for s in body["a"]} <= {"copied", "paraphrased", "omitted"}
    for side, text in (("a", seed_texts["000"]), ("b", seed_texts["001"])):
        for s in body[side]:
            assert text[s["start"] : s["end"]] == s["text"]
            assert set(s) >= {"index", "text", "start", "end", "label", "match", "score"}
            for op in s["diff"]:
                assert text[op["start"] : op["end"]] == op["text"]
    summary = body["summary"]
    assert summary["added"] == sum(s["label"] == "added" for s in body["b"])
    assert summary["omitted"] == sum(s["label"] == "omitted" for s in body["a"])
    copied = [s for s in body["b"] if s["label"] == "copied"]
    assert all(body["a"][s["match"]]["match"] is not None for s in copied)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"a": "", "b": "Some text."}, "a"),
        ({"a": "Some text.", "b": "  \n\t "}, "b"),
    ],
)
def test_post_empty_text_is_422(api: TestClient, body: dict[str, str], field: str) -> None:
    r = api.post("/alignments", json=body)
    assert r.status_code == 422
    assert re.search(rf"\b{field}\b.*empty", r.json()["detail"])


def test_post_lone_surrogate_is_422(api: TestClient) -> None:
    raw = b'{"a": "Fine text.", "b": "Broken \\ud800 text."}'
    r = api.post("/alignments", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "surrogate" in r.json()["detail"]


def test_post_missing_field_is_422(api: TestClient) -> None:
    r = api.post("/alignments", json={"a": "Only one text."})
    assert r.status_code == 422
    assert "b" in r.json()["detail"]


def test_get_stored_alignment(api: TestClient, seed_texts: dict[str, str]) -> None:
    post_article(api, id="ani-000", text=seed_texts["000"], title="Blinken: 10,000 troops")
    post_article(api, id="ani-001", text=seed_texts["001"], title="Zelenskyy responds")
    r = api.get("/alignments/ani-000/ani-001")
    assert r.status_code == 200, r.text
    direct = api.post("/alignments", json={"a": seed_texts["000"], "b": seed_texts["001"]})
    assert r.json()["summary"] == direct.json()["summary"]


def test_unknown_id_is_404_naming_it(api: TestClient, seed_texts: dict[str, str]) -> None:
    post_article(api, id="known", text=seed_texts["000"])
    r = api.get("/alignments/known/nope-42")
    assert r.status_code == 404
    assert "'nope-42'" in r.json()["detail"] and "known'" not in r.json()["detail"]
    r = api.get("/alignments/nope-42/known/view")  # an HTML route: an HTML page, escaped
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "&#39;nope-42&#39;" in r.text and "known&#39;" not in r.text
    r = api.get("/alignments/x1/x2")
    assert "'x1'" in r.json()["detail"] and "'x2'" in r.json()["detail"]


def test_view_page(api: TestClient, seed_texts: dict[str, str]) -> None:
    post_article(api, id="a", text=seed_texts["000"], title="Blinken", source="ANI")
    post_article(api, id="b", text=seed_texts["001"], title="Zelenskyy", source="Outlet B")
    r = api.get("/alignments/a/b/view")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    for label in ("copied", "paraphrased", "added", "omitted"):
        assert f'class="s {label}"' in page  # every label is present in the seeds
        assert f'class="swatch {label}"' in page  # and in the legend
    assert "ANI" in page and "Outlet B" in page
    assert 'id="a-0"' in page and 'href="#b-' in page
    assert "<mark class=" in page  # word-level differences are marked
    summary = api.get("/alignments/a/b").json()["summary"]
    assert f'<span class="count">{summary["added"]}</span> added' in page
    # The verdict and scores are on the page, and it links back to both articles.
    assert '<span class="verdict syndicated">syndicated</span>' in page
    assert 'class="jaccard">0.2' in page  # J ~0.22 (docs/matching.md)
    assert 'href="/article/a"' in page and 'href="/article/b"' in page


def test_view_escapes_article_text(api: TestClient) -> None:
    post_article(
        api,
        id="evil-a",
        text=HOSTILE_TEXT,
        title='Title "><img src=x onerror=alert(1)>',
        url='https://example.org/"><script>alert(2)</script>',
    )
    post_article(api, id="evil-b", text=HOSTILE_TEXT.replace("Monday", "Tuesday"), title="B")
    page = api.get("/alignments/evil-a/evil-b/view").text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert html.escape('<script>alert("x")</script>', quote=True) in page or (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    )
    # The one <script> element is the page's own.
    assert page.count("<script>") == 1
    assert 'href="https://example.org/&#34;&gt;&lt;script&gt;' in page


def sentences(n: int, word: str = "w") -> str:
    return " ".join(f"The {word}{k} report was filed on time by the desk." for k in range(n))


@pytest.fixture
def small_limit_api(settings, redis_client):  # type: ignore[no-untyped-def]
    """The API with COPYDESK_MAX_ALIGN_SENTENCES=5."""
    from service.api import create_app

    limited = settings.model_copy(update={"max_align_sentences": 5})
    with TestClient(create_app(limited, client=redis_client)) as client:
        yield client


def test_post_over_the_sentence_limit_is_413_saying_what_to_do(
    small_limit_api: TestClient,
) -> None:
    r = small_limit_api.post("/alignments", json={"a": sentences(5), "b": sentences(7)})
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert detail.startswith("text b has 7 sentences; the limit is 5")
    assert "COPYDESK_MAX_ALIGN_SENTENCES" in detail and "split the article" in detail
    ok = small_limit_api.post("/alignments", json={"a": sentences(5), "b": sentences(5)})
    assert ok.status_code == 200 and len(ok.json()["b"]) == 5


def test_stored_over_the_sentence_limit_is_413_json_and_html(
    small_limit_api: TestClient,
) -> None:
    post_article(small_limit_api, id="long", text=sentences(9))
    post_article(small_limit_api, id="short", text=sentences(2, "v"))
    r = small_limit_api.get("/alignments/long/short")
    assert r.status_code == 413
    assert r.json()["detail"].startswith("text a has 9 sentences; the limit is 5")
    page = small_limit_api.get("/alignments/short/long/view")
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "text b has 9 sentences; the limit is 5" in page.text
    assert "COPYDESK_MAX_ALIGN_SENTENCES" in page.text


def test_default_limit_refuses_the_reported_attack_with_413(api: TestClient) -> None:
    from service.settings import get_settings

    limit = get_settings().max_align_sentences
    many = " ".join(f"Item {k} is here." for k in range(limit + 1))
    r = api.post("/alignments", json={"a": many, "b": "One sentence only."})
    assert r.status_code == 413
    assert f"text a has {limit + 1:,} sentences; the limit is {limit:,}" in r.json()["detail"]


def test_post_over_the_character_limit_is_413_before_splitting(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shingling.align.aligner

    def no_splitting(text: str) -> None:
        raise AssertionError("the text was split")

    monkeypatch.setattr(shingling.align.aligner, "split_sentences", no_splitting)
    from service.settings import get_settings

    limit = get_settings().max_text_chars
    r = api.post("/alignments", json={"a": "Short.", "b": "x" * (limit + 1)})
    assert r.status_code == 413
    assert r.json()["detail"].startswith(f"text b has {limit + 1:,} characters; the limit is")
    assert "COPYDESK_MAX_TEXT_CHARS" in r.json()["detail"]


#: Reworded with hardly a word in common: only the semantic pair model pairs them.
STORM_A = (
    "The storm knocked out power to thousands of homes across the region. "
    "Talks on the trade deal resumed in Geneva on Monday after a two-week pause."
)
STORM_B = (
    "Thousands of households in the area lost electricity because of the storm. "
    "Talks on the trade deal resumed in Geneva on Monday after a two-week pause."
)


@pytest.mark.parametrize(("semantic", "label"), [(False, "added"), (True, "paraphrased")])
def test_semantic_setting_chooses_the_pair_model(  # type: ignore[no-untyped-def]
    settings, redis_client, semantic: bool, label: str
) -> None:
    from service.api import create_app

    chosen = settings.model_copy(update={"semantic": semantic})
    with TestClient(create_app(chosen, client=redis_client)) as client:
        body = client.post("/alignments", json={"a": STORM_A, "b": STORM_B}).json()
        assert [s["label"] for s in body["b"]] == [label, "copied"]
        post_article(client, id="storm-a", text=STORM_A)
        post_article(client, id="storm-b", text=STORM_B)
        stored = client.get("/alignments/storm-a/storm-b").json()
        assert [s["label"] for s in stored["b"]] == [label, "copied"]
        page = client.get("/alignments/storm-a/storm-b/view").text
        assert f'<span class="count">{body["summary"]["paraphrased"]}</span> paraphrased' in page


def test_rewritten_degree_of_the_syndicated_seed(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    summary = api.post("/alignments", json={"a": seed_texts["000"], "b": seed_texts["001"]}).json()[
        "summary"
    ]
    assert summary["rewritten"] in ("verbatim", "light", "heavy")
    assert summary["reused"] <= summary["copied"] + summary["paraphrased"]
    assert 0.0 <= summary["paraphrase_share"] <= 1.0
