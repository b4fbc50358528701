"""The /articles routes as API.md defines them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shingling import words


def _post(api: TestClient, **body: object):  # type: ignore[no-untyped-def]
    return api.post("/articles", json=body)


def test_post_seeds_finds_syndication(api: TestClient, seed_texts: dict[str, str]) -> None:
    results = {k: _post(api, id=k, text=t) for k, t in seed_texts.items()}
    assert all(r.status_code == 201 for r in results.values())
    assert results["000"].json()["matches"] == []
    m = results["001"].json()["matches"]
    assert [x["id"] for x in m] == ["000"]
    assert m[0]["verdict"] == "syndicated"
    for field in ("jaccard", "containment", "reverse_containment"):
        assert 0 < m[0][field] <= 1
    back = api.get("/articles/000/matches").json()["matches"]
    assert [(x["id"], x["verdict"]) for x in back] == [("001", "syndicated")]
    for k in ("002", "003", "004"):
        assert api.get(f"/articles/{k}/matches").json()["matches"] == []


def test_repost_idempotent_200(api: TestClient, seed_texts: dict[str, str]) -> None:
    assert _post(api, id="a", text=seed_texts["000"]).status_code == 201
    again = _post(api, id="a", text=seed_texts["000"])
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"


def test_replace_200(api: TestClient, seed_texts: dict[str, str]) -> None:
    _post(api, id="a", text=seed_texts["000"])
    r = _post(api, id="a", text=seed_texts["002"])
    assert (r.status_code, r.json()["status"]) == (200, "replaced")
    assert api.get("/articles/a").json()["text"] == seed_texts["002"]


def test_generated_id(api: TestClient) -> None:
    r = _post(api, text="A story with enough words to shingle properly today.")
    assert r.status_code == 201
    assert api.get(f"/articles/{r.json()['id']}").status_code == 200


def test_match_does_not_store(api: TestClient, seed_texts: dict[str, str]) -> None:
    _post(api, id="000", text=seed_texts["000"])
    r = api.post("/articles/match", json={"text": seed_texts["001"]})
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["matches"]] == ["000"]
    assert api.get("/readyz").json()["articles"] == 1


def test_get_and_metadata(api: TestClient) -> None:
    _post(
        api,
        id="m1",
        text="Words words and more words in this text.",
        title="Title",
        source="Outlet",
        url="https://example.test/1",
        published_at="2024-10-31T10:00:00+05:30",
    )
    doc = api.get("/articles/m1").json()
    assert doc["title"] == "Title" and doc["source"] == "Outlet"
    assert doc["published_at"] == "2024-10-31T04:30:00+00:00"


def test_html_input(api: TestClient) -> None:
    para = "<p>The council voted on Monday to close the old bridge for repairs that will last "
    html = (
        "<html><head><title>Bridge closes</title></head><body><nav>Home News Sport</nav>"
        f"<article><h1>Bridge closes</h1>{para}six months.</p>{para}a year.</p></article>"
        "<footer>(c) Paper</footer></body></html>"
    )
    r = _post(api, id="h1", html=html)
    assert r.status_code == 201, r.text
    doc = api.get("/articles/h1").json()
    assert "council voted" in doc["text"] and "Home News Sport" not in doc["text"]
    assert doc["title"] == "Bridge closes"


def test_empty_text_is_4xx_and_stores_nothing(api: TestClient) -> None:
    for body in (
        {"id": "e", "text": ""},
        {"id": "e", "text": "   \n"},
        {"id": "e", "text": "ADVERTISEMENT"},
        {"id": "e"},
    ):
        r = api.post("/articles", json=body)
        assert 400 <= r.status_code < 500, body
        assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert api.get("/articles/e").status_code == 404


def test_delete(api: TestClient, seed_texts: dict[str, str]) -> None:
    _post(api, id="000", text=seed_texts["000"])
    _post(api, id="001", text=seed_texts["001"])
    assert api.delete("/articles/001").status_code == 204
    assert api.delete("/articles/001").status_code == 404
    assert api.get("/articles/001").status_code == 404
    assert api.get("/articles/000/matches").json()["matches"] == []


def test_unknown_ids_404(api: TestClient) -> None:
    for method, path in (
        ("GET", "/articles/nope"),
        ("GET", "/articles/nope/matches"),
        ("DELETE", "/articles/nope"),
    ):
        r = api.request(method, path)
        assert r.status_code == 404
        assert "nope" in r.json()["detail"]


def test_text_too_large_413(api: TestClient, settings) -> None:  # type: ignore[no-untyped-def]
    r = _post(api, id="big", text="word " * (settings.max_text_chars // 5 + 10))
    assert r.status_code == 413
    assert "COPYDESK_MAX_TEXT_CHARS" in r.json()["detail"]


def test_a_match_says_where_the_shared_passages_are(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    _post(api, id="000", text=seed_texts["000"])
    (m,) = api.post("/articles/match", json={"text": seed_texts["001"]}).json()["matches"]
    assert m["passages"], m
    a, b = seed_texts["001"], seed_texts["000"]
    longest = max(m["passages"], key=lambda p: p["words"])
    assert longest["words"] > 50
    # Offsets into each text: the same run of words, as both outlets printed it.
    # (compared as folded words: the outlets' quotation marks differ)
    assert words(a[longest["query_start"] : longest["query_end"]]) == (
        words(b[longest["match_start"] : longest["match_end"]])
    )
    assert 0.3 < m["query_share"] < 0.6 and 0.25 < m["match_share"] < 0.5


def test_scraped_text_with_nul_and_control_characters_is_accepted(api: TestClient) -> None:
    """A NUL or another C0 control character becomes a space (offsets kept);
    tab and newline stay."""
    text = "The minister\x00said on\x07Friday\tthat talks\nwould resume in the spring.\x1b"
    r = _post(api, id="scraped", text=text, title="A\x00title")
    assert r.status_code == 201, r.text
    stored = api.get("/articles/scraped").json()
    assert stored["text"] == "The minister said on Friday\tthat talks\nwould resume in the spring. "
    assert stored["title"] == "A title"
    assert len(stored["text"]) == len(text)


def test_rewritten_true_finds_a_reworded_copy_the_shingles_call_partial(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    from tests.conftest import reword

    for k in ("000", "001"):
        _post(api, id=k, text=seed_texts[k])
    copy = {"text": reword(seed_texts["000"])}
    plain = {m["id"]: m for m in api.post("/articles/match", json=copy).json()["matches"]}
    assert plain["000"]["verdict"] == "partial" and plain["000"]["rewrite"] is None
    r = api.post("/articles/match", params={"rewritten": "true"}, json=copy)
    assert r.status_code == 200
    found = {m["id"]: m for m in r.json()["matches"]}
    assert found["000"]["verdict"] == "syndicated"
    rewrite = found["000"]["rewrite"]
    assert rewrite["linked"] and rewrite["rewritten"] is not None
    assert (rewrite["copy_side"], rewrite["model"]) == ("query", "semantic")  # the default
    assert rewrite["reused_share"] >= 0.3 and rewrite["reused"] >= 3
    assert api.get("/readyz").json()["articles"] == 2  # match stores nothing
    stored = _post(api, id="copy", text=copy["text"])
    assert {m["id"]: m["verdict"] for m in stored.json()["matches"]}["000"] == "partial"
    back = api.get("/articles/000/matches", params={"rewritten": "true"}).json()["matches"]
    assert {m["id"]: m["verdict"] for m in back}["copy"] == "syndicated"


def test_rewritten_true_does_not_make_same_event_reports_a_copy(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    for k in ("000", "001"):
        _post(api, id=k, text=seed_texts[k])
    for k in ("002", "003", "004"):
        r = api.post(
            "/articles", params={"rewritten": "true"}, json={"id": k, "text": seed_texts[k]}
        )
        assert r.status_code == 201
        for m in r.json()["matches"]:
            assert m["verdict"] == "partial", (k, m["id"])
            assert m["rewrite"] is None or not m["rewrite"]["linked"]


def test_rewrite_pairs_zero_turns_the_pass_off(
    settings,
    redis_client,
    seed_texts: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    from service.api import create_app
    from tests.conftest import reword

    off = settings.model_copy(update={"rewrite_pairs": 0})
    with TestClient(create_app(off, client=redis_client)) as api:
        _post(api, id="000", text=seed_texts["000"])
        r = api.post(
            "/articles/match",
            params={"rewritten": "true"},
            json={"text": reword(seed_texts["000"])},
        )
    assert [(m["verdict"], m["rewrite"]) for m in r.json()["matches"]] == [("partial", None)]
