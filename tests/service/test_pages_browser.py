"""The editor UI in a real headless Chromium, driven as an editor would.

One test per page, against uvicorn on 127.0.0.1 (the ``live_server``
and ``browser`` fixtures of tests/conftest.py). Needs the Debian ``chromium`` package and the
python ``playwright`` package; Playwright's own browser download is never used.

Every page is photographed at 1400 and 420 px wide; with
``UI_SCREENSHOTS=DIR`` the pictures are also copied there (the README's
are made so: ``UI_SCREENSHOTS=docs/img pytest tests/service/test_pages_browser.py``).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

WIDTHS = {"1400": (1400, 900), "420": (420, 860)}
HOSTILE_TITLE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">Hostile'
SEEDS = {
    "000": (
        "ani-000",
        "Blinken: 10,000 North Korean troops in Russia",
        "ANI",
        "2024-10-31T14:05:00Z",
    ),
    "001": (
        "out-001",
        "Zelenskyy responds to North Korean deployment",
        "Outlet B",
        "2024-11-01T08:00:00Z",
    ),
    "002": (
        "gur-002",
        "Ukraine's GUR: North Korean soldiers in Kursk",
        "Paper C",
        "2024-11-01T10:00:00Z",
    ),
    "003": (
        "upi-003",
        "Austin confirms North Korean troops in Russia",
        "UPI",
        "2024-10-31T20:00:00Z",
    ),
    "004": ("nis-004", "NIS: North Korea sends more troops", "Outlet E", "2024-11-02T06:00:00Z"),
}


@pytest.fixture
def seeded(live_server: str, seed_texts: dict[str, str]) -> str:
    for key, (aid, title, source, when) in SEEDS.items():
        body = {"id": aid, "text": seed_texts[key], "title": title, "source": source}
        r = httpx.post(f"{live_server}/articles", json=body | {"published_at": when})
        assert r.status_code in (200, 201), r.text
    return live_server


def _page(browser: Any, width: str = "1400", **kw: Any) -> Any:
    w, h = WIDTHS[width]
    page = browser.new_page(viewport={"width": w, "height": h}, **kw)
    page.set_default_timeout(15_000)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.csp_refusals = refused
    return page


def _shots(browser: Any, url: str, name: str, tmp_path: Path, **kw: Any) -> None:
    """Photograph ``url`` at both widths (a GET: the same page a link opens)."""
    for width in WIDTHS:
        page = _page(browser, width, **kw)
        page.goto(url)
        _shot(page, f"{name}-{width}", tmp_path)
        assert page.csp_refusals == [], page.csp_refusals
        page.close()


def _shot(page: Any, name: str, tmp_path: Path) -> None:
    path = tmp_path / f"ui-{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 5_000
    # At 420 px nothing may need a sideways scroll.
    assert (
        page.evaluate("() => document.documentElement.scrollWidth")
        <= page.viewport_size["width"] + 1
    ), name
    target = os.environ.get("UI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def test_check_page(browser: Any, seeded: str, seed_texts: dict[str, str], tmp_path: Path) -> None:
    """Paste seed 001's text, see 000 as syndicated, open the alignment, see the
    copied passages marked on both sides."""
    for width in WIDTHS:
        page = _page(browser, width)
        page.goto(f"{seeded}/")
        expect(page.get_by_role("heading", name="Check an article")).to_be_visible()
        page.get_by_label("Article").fill(seed_texts["001"])
        page.get_by_label("Title").fill("The text on my desk")
        if width == "1400":
            _shot(page, "home-1400", tmp_path)
        else:
            _shot(page, "home-420", tmp_path)
        page.get_by_role("button", name="Check").click()
        card = page.locator('li.match[data-id="ani-000"]')
        expect(card.locator(".verdict")).to_have_text("syndicated")
        expect(card).to_contain_text("ANI")
        expect(card).to_contain_text("2024-10-31")
        expect(card.locator(".jaccard")).to_have_text(re.compile(r"^0\.\d\d$"))
        expect(card.locator("blockquote.passage").first).to_be_visible()
        _shot(page, f"check-{width}", tmp_path)
        card.get_by_role("button", name="Side by side").click()
        expect(page.locator(".pair .verdict")).to_have_text("syndicated")
        a_marks = page.locator('[id^="a-"] .pass')
        b_marks = page.locator('[id^="b-"] .pass')
        expect(a_marks.first).to_be_attached()
        expect(b_marks.first).to_be_visible()
        first = b_marks.first.get_attribute("data-passage")
        colour = b_marks.first.evaluate("el => getComputedStyle(el).backgroundColor")
        twin = page.locator(f'[id^="a-"] .pass[data-passage="{first}"]').first
        assert twin.evaluate("el => getComputedStyle(el).backgroundColor") == colour
        assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
        expect(page.get_by_role("link", name=SEEDS["000"][1])).to_have_attribute(
            "href", "/article/ani-000"
        )
        _shot(page, f"alignment-{width}", tmp_path)
        assert page.csp_refusals == []
        page.close()


def test_check_page_finds_a_reworded_copy(
    browser: Any, seeded: str, seed_texts: dict[str, str], tmp_path: Path
) -> None:
    """Tick "Look for reworded copies", paste a reworded 000: the card says
    syndicated with the aligner's line, where an unticked check says partial."""
    from tests.conftest import reword

    for width in WIDTHS:
        page = _page(browser, width)
        page.goto(f"{seeded}/")
        page.get_by_label("Article").fill(reword(seed_texts["000"]))
        page.get_by_role("button", name="Check").click()
        card = page.locator('li.match[data-id="ani-000"]')
        expect(card.locator(".verdict")).to_have_text("partial")
        expect(card.locator("p.rewrite")).to_have_count(0)
        page.go_back()
        box = page.get_by_label("Look for reworded copies")
        box.check()
        page.get_by_role("button", name="Check").click()
        expect(card.locator(".verdict")).to_have_text("syndicated")
        line = card.locator("p.rewrite")
        expect(line).to_have_attribute("data-linked", "yes")
        expect(line).to_contain_text(re.compile(r"this text is a (verbatim|\w+ly rewritten) copy"))
        expect(line).to_contain_text("reported syndicated")
        _shot(page, f"check-rewritten-{width}", tmp_path)
        assert page.csp_refusals == []
        page.close()


def test_side_by_side_page(browser: Any, seeded: str, tmp_path: Path) -> None:
    """The stored pair's page: scores, passages, links back, a column toggle at phone
    width that works without JavaScript, and an HTML 404 for an unknown id."""
    url = f"{seeded}/article/ani-000/vs/out-001"
    page = _page(browser, "420", java_script_enabled=False)
    page.goto(url)
    expect(page.locator(".pair .verdict")).to_have_text("syndicated")
    a_cell, b_cell = page.locator("td.col-a").first, page.locator("td.col-b:not(.empty)").first
    expect(a_cell).to_be_visible()
    expect(b_cell).to_be_visible()
    # One column: B's cell sits under A's, not beside it.
    assert b_cell.bounding_box()["y"] > a_cell.bounding_box()["y"]
    page.locator('label[for="cols-a"]').click()
    expect(b_cell).to_be_hidden()
    expect(a_cell).to_be_visible()
    page.locator('label[for="cols-b"]').click()
    expect(a_cell).to_be_hidden()
    # Omitted sentences stand in A's column, in A's order among the unmatched.
    omitted = page.locator("td.col-a .s.omitted")
    if omitted.count():
        ids = [int(x.split("-")[1]) for x in omitted.evaluate_all("els => els.map(e => e.id)")]
        assert ids == sorted(ids)
    # Changed words inside copied sentences are marked.
    page.locator('label[for="cols-both"]').click()
    expect(page.locator(".s mark.replace, .s mark.insert, .s mark.delete").first).to_be_attached()
    page.close()
    _shots(browser, url, "side-by-side", tmp_path)

    missing = _page(browser)
    response = missing.goto(f"{seeded}/article/ani-000/vs/nope")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    expect(missing.get_by_role("heading", name="404 Not Found")).to_be_visible()
    expect(missing.locator(".detail")).to_contain_text("'nope'")
    _shot(missing, "404-1400", tmp_path)


def test_article_page(browser: Any, seeded: str, tmp_path: Path) -> None:
    page = _page(browser)
    page.goto(f"{seeded}/article/out-001")
    expect(page.get_by_role("heading", name=SEEDS["001"][1])).to_be_visible()
    expect(page.locator(".meta-table")).to_contain_text("Outlet B")
    expect(page.locator(".meta-table")).to_contain_text("2024-11-01 08:00 UTC")
    row = page.locator('table.matches tr[data-id="ani-000"]')
    expect(row.locator(".verdict")).to_have_text("syndicated")
    expect(page.locator(".text p").first).to_contain_text("Blinken")
    row.get_by_role("link", name="Side by side").click()
    expect(page).to_have_url(re.compile(r"/article/ani-000/vs/out-001$"))
    expect(page.locator(".pass").first).to_be_visible()
    page.close()
    _shots(browser, f"{seeded}/article/out-001", "article", tmp_path)


def test_articles_page(
    browser: Any, seeded: str, seed_texts: dict[str, str], tmp_path: Path
) -> None:
    """The list pages 25 at a time and finds articles by words, source, id and date."""
    with httpx.Client(base_url=seeded) as client:
        for i in range(25):
            body = {"id": f"brief-{i:02d}", "text": f"Brief {i}: " + seed_texts["004"][:300]}
            assert client.post("/articles", json=body).status_code == 201
    page = _page(browser)
    page.goto(f"{seeded}/search")
    expect(page.locator("main")).to_contain_text("30 articles")
    expect(page.locator("table.articles tbody tr")).to_have_count(25)
    page.get_by_role("link", name="Older").click()
    expect(page.locator("table.articles tbody tr")).to_have_count(5)
    page.get_by_role("link", name="Newer").click()
    expect(page.locator("table.articles tbody tr")).to_have_count(25)
    for query, expected in (("kursk", "gur-002"), ("UPI", "upi-003"), ("2024-10-31", "ani-000")):
        page.get_by_role("searchbox", name="Search").fill(query)
        page.get_by_role("button", name="Search").click()
        expect(page.locator(f'tr[data-id="{expected}"]')).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill("2024-10-31")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.articles tbody tr")).to_have_count(2)  # ANI and UPI
    page.get_by_role("link", name=SEEDS["000"][1]).click()
    expect(page).to_have_url(re.compile(r"/article/ani-000$"))
    page.close()
    _shots(browser, f"{seeded}/search?q=north", "articles", tmp_path)


def test_families_page(browser: Any, seeded: str, tmp_path: Path) -> None:
    """Start a clustering job, watch it, open the ANI family: 000 is its origin."""
    page = _page(browser)
    page.goto(f"{seeded}/families")
    expect(page.locator("main")).to_contain_text("No clustering job has finished yet")
    expect(page.get_by_label("also join reworded copies")).not_to_be_checked()
    page.get_by_role("button", name="Start a clustering job").click()
    expect(page).to_have_url(re.compile(r"/families/jobs/[0-9a-f]+$"))
    job_url = page.url
    # The page reloads itself (a meta refresh, no script) until the job ends.
    expect(page.locator('.job[data-status="done"]')).to_be_visible(timeout=120_000)
    _shot(page, "job-1400", tmp_path)
    page.get_by_role("link", name="See the families").click()
    row = page.locator("table.families tr", has=page.locator('a:text("Blinken")'))
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-origin", "ani-000")
    expect(row.locator(".size")).to_have_text("2")
    _shot(page, "families-1400", tmp_path)
    row.get_by_role("link").first.click()
    expect(page.locator(".timeline li.origin")).to_have_attribute("data-id", "ani-000")
    expect(page.locator(".timeline li.origin")).to_contain_text("ANI")
    reprint = page.locator('.timeline li.reprint[data-id="out-001"]')
    expect(reprint).to_contain_text("Outlet B")
    expect(reprint.locator(".took")).to_have_text(re.compile(r"^\d+%$"))
    expect(page.locator(".reason")).not_to_be_empty()
    family_url = page.url
    page.get_by_role("link", name="alignment").first.click()
    expect(page).to_have_url(re.compile(r"/article/ani-000/vs/out-001$"))
    page.close()
    for url, name in ((family_url, "family"), (job_url, "job"), (f"{seeded}/families", "families")):
        page = _page(browser, "420")
        page.goto(url)
        _shot(page, f"{name}-420", tmp_path)
        page.close()
    page = _page(browser)
    page.goto(family_url)
    _shot(page, "family-1400", tmp_path)


def test_hostile_title_and_text_never_run(browser: Any, seeded: str, tmp_path: Path) -> None:
    """A title and text that carry <script> and <img onerror> show as text on
    every page, and nothing of theirs runs."""
    body = HOSTILE_TITLE + "\n\n" + "North Korean soldiers in Russia, said Blinken. " * 12
    r = httpx.post(
        f"{seeded}/articles",
        json={"id": "hostile", "text": body, "title": HOSTILE_TITLE, "source": "<b>Evil</b>"},
    )
    assert r.status_code == 201
    urls = [
        "/article/hostile",
        "/search?q=hostile",
        "/article/ani-000/vs/hostile",
        "/article/hostile/vs/ani-000",
    ]
    page = _page(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in urls:
        page.goto(seeded + url)
        expect(page.get_by_text(HOSTILE_TITLE).first).to_be_visible()
        assert page.evaluate("() => window.pwned") is None, url
        assert page.locator("img").count() == 0, url
    page.goto(f"{seeded}/")
    page.get_by_label("Article").fill(body)
    page.get_by_label("Title").fill(HOSTILE_TITLE)
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name=re.compile("Matches of"))).to_contain_text("<script>")
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("img").count() == 0
    assert dialogs == []
    page.goto(f"{seeded}/article/hostile")
    _shot(page, "hostile-1400", tmp_path)


def test_docs_page_works_offline(browser: Any, live_server: str, tmp_path: Path) -> None:
    """Swagger UI renders with every request kept on this live_server (no CDN)."""
    page = _page(browser)
    elsewhere: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto(f"{live_server}/docs")
    expect(page.locator(".opblock-summary-path", has_text="/articles/match").first).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/articles']").first).to_be_visible()
    assert elsewhere == [] and page.csp_refusals == []
    _shot(page, "docs-1400", tmp_path)
