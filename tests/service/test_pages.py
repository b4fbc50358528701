"""The editor UI's pages (service/pages.py) through the app, against a real Redis.

What a browser needs of them is in test_pages_browser.py; here: each page
answers HTML with the security headers, escapes what it shows, pages lists,
answers unknown ids with an HTML 404, and the JSON list route and offline
docs do what the README says.
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from service.pages import ui_policy
from service.storage.listing import list_articles
from tests.conftest import reword

HOSTILE = '<script>alert("t")</script><img src=x onerror=alert(1)>'


def _post(api: TestClient, aid: str, text: str, **meta: Any) -> None:
    r = api.post("/articles", json={"id": aid, "text": text, **meta})
    assert r.status_code in (200, 201), r.text


def _seed(api: TestClient, seed_texts: dict[str, str]) -> None:
    _post(
        api,
        "ani-000",
        seed_texts["000"],
        title="Blinken: 10,000 North Korean troops in Russia",
        source="ANI",
        published_at="2024-10-31T14:05:00Z",
    )
    _post(
        api,
        "out-001",
        seed_texts["001"],
        title="Zelenskyy responds",
        source="Outlet B",
        published_at="2024-11-01T08:00:00Z",
    )


def _html(r: Any, status: int = 200) -> str:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    policy = r.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert r.text.lstrip().startswith("<!DOCTYPE html>")
    return str(r.text)


def _form(api: TestClient, path: str, data: dict[str, str], **kw: Any) -> Any:
    return api.post(path, data=data, **kw)


def test_home_is_the_check_form(api: TestClient) -> None:
    page = _html(api.get("/"))
    assert 'action="/check"' in page and 'name="body"' in page and 'name="add"' in page
    assert api.get("/").headers["content-security-policy"] == ui_policy()
    assert "form-action 'self'" in ui_policy()


def test_check_lists_matches_with_scores_and_passages(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    _seed(api, seed_texts)
    page = _html(_form(api, "/check", {"body": seed_texts["001"], "kind": "text"}))
    assert 'data-id="ani-000" data-verdict="syndicated"' in page
    assert "ANI" in page and "2024-10-31 14:05 UTC" in page
    expected = api.post("/articles/match", json={"text": seed_texts["001"]}).json()["matches"]
    top = next(m for m in expected if m["id"] == "ani-000")
    assert f"{top['jaccard']:.2f}" in page
    assert f"{top['containment']:.0%}" in page and f"{top['reverse_containment']:.0%}" in page
    card = page[page.index('data-id="ani-000"') :].split("</li>", 1)[0]
    assert card.count('class="passage"') == len(top["passages"]) > 0
    assert page.count('action="/check/side-by-side"') == 1  # one copy of the text for all
    assert 'name="match" value="ani-000"' in page
    pair = _html(_form(api, "/check/side-by-side", {"match": "ani-000", "text": seed_texts["001"]}))
    assert 'class="verdict syndicated"' in pair and 'class="pass p0"' in pair
    assert api.get("/articles/nope").status_code == 404  # nothing was stored


def test_check_can_look_for_reworded_copies(api: TestClient, seed_texts: dict[str, str]) -> None:
    """The "Look for reworded copies" box runs rewritten=true: a reworded 000
    the shingles call partial comes back syndicated, with the aligner's line."""
    _seed(api, seed_texts)
    assert 'name="rewritten"' in _html(api.get("/"))
    data = {"body": reword(seed_texts["000"]), "kind": "text"}
    plain = _html(_form(api, "/check", data))
    assert 'data-id="ani-000" data-verdict="partial"' in plain and 'class="rewrite' not in plain
    page = _html(_form(api, "/check", data | {"rewritten": "on"}))
    assert 'data-id="ani-000" data-verdict="syndicated"' in page
    card = page[page.index('data-id="ani-000"') :].split("</li>", 1)[0]
    assert 'data-linked="yes"' in card
    assert re.search(r"this text is a <strong>(verbatim|lightly rewritten|heavily rewritten)", card)
    assert "reported syndicated" in card and "semantic model" in card  # the default


def test_check_hides_the_reworded_box_when_the_pass_is_off(
    settings: Any, redis_client: Any, seed_texts: dict[str, str]
) -> None:
    from service.api import create_app

    off = settings.model_copy(update={"rewrite_pairs": 0})
    with TestClient(create_app(off, client=redis_client)) as api:
        assert 'name="rewritten"' not in _html(api.get("/"))
        _seed(api, seed_texts)
        data = {"body": reword(seed_texts["000"]), "kind": "text", "rewritten": "on"}
        page = _html(_form(api, "/check", data))  # a stale form's box is ignored
    assert 'data-id="ani-000" data-verdict="partial"' in page and 'class="rewrite' not in page


def test_check_takes_a_web_page(api: TestClient, seed_texts: dict[str, str]) -> None:
    _seed(api, seed_texts)
    paragraphs = "".join(f"<p>{p}</p>" for p in seed_texts["001"].split("\n\n") if p.strip())
    html = f"<html><head><title>A page</title></head><body><article>{paragraphs}</article></body>"
    page = _html(_form(api, "/check", {"body": html, "kind": "html"}))
    assert 'data-id="ani-000" data-verdict="syndicated"' in page
    assert "&lt;p&gt;" not in page  # the article was extracted, not its markup


def test_check_can_add_to_the_index(api: TestClient, seed_texts: dict[str, str]) -> None:
    _seed(api, seed_texts)
    data = {"body": seed_texts["002"], "title": "GUR report", "source": "Paper C", "add": "on"}
    data |= {"id": "paper-c-002", "published_at": "2024-11-02"}
    page = _html(_form(api, "/check", data))
    assert "Added to the index" in page and 'href="/article/paper-c-002"' in page
    stored = api.get("/articles/paper-c-002").json()
    assert stored["source"] == "Paper C" and stored["published_at"].startswith("2024-11-02")


def test_check_refuses_bad_input_on_the_form_keeping_it(api: TestClient) -> None:
    page = _html(_form(api, "/check", {"body": "  ", "title": "kept <b>"}), 422)
    assert 'role="alert"' in page and "kept &lt;b&gt;" in page
    page = _html(_form(api, "/check", {"body": "some words", "url": "javascript:alert(1)"}), 422)
    assert "url" in page


def test_check_takes_only_a_form_from_this_site(api: TestClient) -> None:
    r = api.post("/check", json={"body": "x"})
    assert _html(r, 415) and "form" in r.text
    r = _form(api, "/check", {"body": "text"}, headers={"sec-fetch-site": "cross-site"})
    _html(r, 403)
    r = _form(api, "/check", {"body": "text"}, headers={"origin": "https://evil.example"})
    _html(r, 403)


def test_writes_need_the_api_key_when_one_is_set(
    settings: Any, redis_client: Any, seed_texts: dict[str, str]
) -> None:
    from pydantic import SecretStr

    from service.api import create_app

    keyed = settings.model_copy(update={"api_key": SecretStr("s3cret")})
    with TestClient(create_app(keyed, client=redis_client)) as api:
        assert 'name="api_key"' in _html(api.get("/"))
        data = {"body": seed_texts["000"], "add": "on", "id": "k1"}
        _html(_form(api, "/check", data), 401)
        _html(_form(api, "/check", data | {"api_key": "s3cret"}))
        _html(_form(api, "/families/jobs", {}, follow_redirects=False), 401)


def test_hostile_title_and_text_are_shown_as_text(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    _seed(api, seed_texts)
    text = HOSTILE + "\n\n" + seed_texts["001"]
    _post(api, "evil", text, title=HOSTILE, source=HOSTILE)
    pages = [
        api.get("/article/evil"),
        api.get("/search", params={"q": "evil"}),
        api.get("/article/ani-000/vs/evil"),
        api.get("/article/ani-000"),
        _form(api, "/check", {"body": text, "title": HOSTILE, "source": HOSTILE}),
    ]
    for r in pages:
        page = _html(r)
        assert "<script>alert" not in page and "<img src=x" not in page, r.url
        assert "&lt;script&gt;" in page or "&lt;img" in page, r.url
        # The page's own scripts are its inline assets only.
        assert len(re.findall(r"<script>", page)) <= 1


def test_unknown_ids_are_html_404_pages(api: TestClient) -> None:
    for path in (
        "/article/nope",
        "/article/nope/vs/other",
        "/families/cdeadbeef",
        "/families/jobs/nope",
        "/article/<img src=x onerror=alert(1)>",
    ):
        page = _html(api.get(path), 404)
        assert "<img src" not in page and 'href="/search"' in page, path
    _html(_form(api, "/check/side-by-side", {"match": "nope", "text": "some words"}), 404)


def test_search_pages_and_finds_by_id_title_source_and_date(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    _seed(api, seed_texts)
    for i in range(30):
        _post(api, f"x-{i:02d}", f"story {i} " + seed_texts["003"][:400], source=f"Outlet {i}")
    page = _html(api.get("/search"))
    assert "32 articles" in page and page.count('<tr data-id="') == 25
    assert 'offset=25">Older' in page
    second = _html(api.get("/search", params={"offset": 25}))
    assert second.count('<tr data-id="') == 7 and "Newer" in second
    assert 'data-id="ani-000"' in _html(api.get("/search", params={"q": "Blinken"}))
    assert 'data-id="out-001"' in _html(api.get("/search", params={"q": "outlet b"}))
    by_day = _html(api.get("/search", params={"q": "2024-10-31"}))
    assert by_day.count('<tr data-id="') == 1 and 'data-id="ani-000"' in by_day
    exact = _html(api.get("/search", params={"q": "x-07"}))
    assert exact.index('data-id="x-07"') < exact.index("</tbody>")


def test_article_page_shows_metadata_text_matches_and_links(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    _seed(api, seed_texts)
    page = _html(api.get("/article/out-001"))
    assert "Zelenskyy responds" in page and "Outlet B" in page and "2024-11-01 08:00 UTC" in page
    assert '<tr data-id="ani-000">' in page
    assert 'href="/article/ani-000/vs/out-001"' in page  # the earlier one is A
    assert "no clustering job has finished yet" in page


def test_side_by_side_shows_verdict_scores_and_passages(
    api: TestClient, seed_texts: dict[str, str]
) -> None:
    _seed(api, seed_texts)
    page = _html(api.get("/article/ani-000/vs/out-001"))
    assert 'class="verdict syndicated"' in page
    assert 'href="/article/ani-000"' in page and 'href="/article/out-001"' in page
    sides: dict[str, set[tuple[str, str]]] = {"a": set(), "b": set()}
    for chunk in page.split('<span class="s ')[1:]:
        side = re.search(r'id="([ab])-\d+"', chunk)
        assert side
        sides[side.group(1)] |= set(re.findall(r'class="pass (p\d)" data-passage="(\d+)"', chunk))
    assert sides["a"], "no shared passage marked"
    # Every passage is marked on both sides, in the same colour.
    assert sides["a"] == sides["b"]
    assert all(colour == f"p{int(k) % 8}" for colour, k in sides["a"])
    assert 'id="cols-a"' in page and 'for="cols-b"' in page


def test_families_job_and_family_pages(api: TestClient, seed_texts: dict[str, str]) -> None:
    _seed(api, seed_texts)
    # A second family, whose origin was published later than ANI's: it lists first.
    _post(api, "upi-003", seed_texts["003"], source="UPI", published_at="2024-10-31T20:00:00Z")
    _post(api, "upi-copy", seed_texts["003"], source="Reprint", published_at="2024-11-03T09:00:00Z")
    assert "No clustering job has finished yet" in _html(api.get("/families"))
    r = _form(api, "/families/jobs", {}, follow_redirects=False)
    assert r.status_code == 303
    job_page = r.headers["location"]
    job_id = job_page.rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while api.get(f"/clusters/jobs/{job_id}").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the clustering job did not finish in 120 s"
        page = _html(api.get(job_page))
        assert '<meta http-equiv="refresh"' in page
        time.sleep(0.2)
    done = _html(api.get(job_page))
    assert 'data-status="done"' in done and "refresh" not in done
    families = _html(api.get("/families"))
    match = re.search(r'data-cluster="(c[0-9a-f]+)" data-origin="ani-000"', families)
    assert match, families
    assert families.index('data-origin="upi-003"') < families.index('data-origin="ani-000"')
    family = _html(api.get(f"/families/{match.group(1)}"))
    assert 'class="origin" data-id="ani-000"' in family
    assert 'href="/article/ani-000/vs/out-001"' in family
    assert re.search(r'class="reason">[^<\s][^<]*<', family)  # the job's reason, shown
    assert f'href="/families/{match.group(1)}"' in _html(api.get("/article/out-001"))


def test_families_form_starts_a_rewritten_job(api: TestClient, seed_texts: dict[str, str]) -> None:
    _seed(api, seed_texts)
    _post(api, "reworded", reword(seed_texts["000"]))
    assert 'name="rewritten"' in _html(api.get("/families"))
    r = _form(api, "/families/jobs", {"rewritten": "1"}, follow_redirects=False)
    job_id = r.headers["location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while (status := api.get(f"/clusters/jobs/{job_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the clustering job did not finish in 120 s"
        time.sleep(0.2)
    assert status["params"]["rewritten"] is True and status["status"] == "done", status
    clusters = api.get(f"/clusters/jobs/{job_id}/result").json()["clusters"]
    assert [sorted(c["members"]) for c in clusters] == [["ani-000", "out-001", "reworded"]]


def test_list_route_json(api: TestClient, seed_texts: dict[str, str]) -> None:
    _seed(api, seed_texts)
    r = api.get("/articles", params={"limit": 1})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and body["next_offset"] == 1 and body["complete"] is True
    assert [a["id"] for a in body["articles"]] == ["out-001"]  # newest first
    assert "text" not in body["articles"][0]
    body = api.get("/articles", params={"offset": 1, "limit": 1}).json()
    assert [a["id"] for a in body["articles"]] == ["ani-000"] and body["next_offset"] is None
    found = api.get("/articles", params={"q": "ANI"}).json()
    assert [a["id"] for a in found["articles"]] == ["ani-000"] and found["total"] is None
    assert api.get("/articles", params={"limit": 0}).status_code == 422
    assert "/articles" in api.get("/openapi.json").json()["paths"]
    assert "get" in api.get("/openapi.json").json()["paths"]["/articles"]


def test_substring_search_is_bounded(redis_client: Any, index: Any) -> None:
    from service.model import ArticleIn

    for i in range(12):
        index.put(ArticleIn(text=f"words of story number {i} and more words here", id=f"s{i}"))
    page = list_articles(redis_client, index.keys, "s1", limit=5, scan_cap=4)
    # The exact id, then what the newest 4 hold (s11, s10): never more is read.
    assert not page.complete and [a.id for a in page.articles] == ["s1", "s11", "s10"]
    full = list_articles(redis_client, index.keys, "s1", limit=5)
    assert full.complete and {a.id for a in full.articles} == {"s1", "s10", "s11"}
