"""The alignment page in a real headless Chromium, served by uvicorn on 127.0.0.1
(the ``live_server`` and ``browser`` fixtures of tests/conftest.py).

Needs the Debian ``chromium`` package (/usr/bin/chromium) and the python
``playwright`` package; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import redis

from service.settings import Settings
from shingling.align import AlignParams, align
from tests.conftest import serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _store_pair(live_server: str, seed_texts: dict[str, str]) -> dict[str, int]:
    """Seeds 000 and 001 stored as ani-000 and out-001; the summary of their alignment."""
    for aid, key, title, source in (
        ("ani-000", "000", "Blinken: 10,000 North Korean troops in Russia", "ANI"),
        ("out-001", "001", "Zelenskyy responds to North Korean deployment", "Outlet B"),
    ):
        r = httpx.post(
            f"{live_server}/articles",
            json={"id": aid, "text": seed_texts[key], "title": title, "source": source},
        )
        assert r.status_code in (200, 201), r.text
    summary: dict[str, int] = httpx.get(f"{live_server}/alignments/ani-000/out-001").json()[
        "summary"
    ]
    return summary


def _expect_labels_and_passages(page: Page, summary: dict[str, int]) -> None:
    from playwright.sync_api import expect

    expect(page.locator("h1").first).to_contain_text("Blinken")
    expect(page.get_by_text("Outlet B").first).to_be_visible()
    for label in ("copied", "paraphrased", "added", "omitted"):
        expect(page.locator(f".s.{label}").first).to_be_visible()
        expect(page.locator(f".legend .swatch.{label}")).to_be_visible()
    counts = page.locator(".summary [data-count=added] .count")
    expect(counts).to_have_text(str(summary["added"]))
    expect(page.locator(".summary [data-count=copied] .count")).to_have_text(str(summary["copied"]))
    expect(page.locator("mark.replace").first).to_be_visible()
    # Shared passages are marked on both sides, passage k in one colour.
    first = page.locator('[id^="b-"] .pass').first
    k = first.get_attribute("data-passage")
    twin = page.locator(f'[id^="a-"] .pass[data-passage="{k}"]').first
    colour = "el => getComputedStyle(el).backgroundColor"
    assert first.evaluate(colour) == twin.evaluate(colour)


def _expect_click_highlights_the_partner(page: Page) -> str:
    """Clicking a copied sentence in B highlights its counterpart in A; its id."""
    from playwright.sync_api import expect

    sentence = page.locator(".s.copied[id^=b-]").first
    partner_id = sentence.get_attribute("data-partner")
    assert partner_id and partner_id.startswith("a-")
    sentence.click(position={"x": 200, "y": 10})
    expect(page.locator(f"#{partner_id}")).to_have_class(re.compile(r"\bactive\b"))
    expect(sentence).to_have_class(re.compile(r"\bactive\b"))
    outline = page.locator(f"#{partner_id}").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    # The highlight follows the click: another sentence takes it over.
    other = page.locator(".s.copied[id^=b-]").nth(1)
    other.click(position={"x": 200, "y": 10})
    expect(page.locator(f"#{partner_id}")).not_to_have_class(re.compile(r"\bactive\b"))
    return partner_id


def test_view_in_chromium(
    live_server: str, browser: Browser, seed_texts: dict[str, str], tmp_path: Path
) -> None:
    summary = _store_pair(live_server, seed_texts)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server}/alignments/ani-000/out-001/view")
    _expect_labels_and_passages(page, summary)
    partner_id = _expect_click_highlights_the_partner(page)
    shot = tmp_path / "alignment.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("ALIGNMENT_SCREENSHOT"):
        shutil.copy(shot, os.environ["ALIGNMENT_SCREENSHOT"])

    # Without JavaScript the counterpart is reached by its anchor (:target).
    nojs = browser.new_context(java_script_enabled=False).new_page()
    nojs.goto(f"{live_server}/alignments/ani-000/out-001/view#{partner_id}")
    style = nojs.locator(f"#{partner_id}").evaluate("el => getComputedStyle(el).outlineStyle")
    assert style == "solid"


def test_view_runs_under_its_content_security_policy(
    live_server: str, browser: Browser, seed_texts: dict[str, str]
) -> None:
    """The page's own style and script run under its policy (no violation reported);
    a script added to the page afterwards does not."""
    for aid, key in (("csp-a", "000"), ("csp-b", "001")):
        r = httpx.post(f"{live_server}/articles", json={"id": aid, "text": seed_texts[key]})
        assert r.status_code in (200, 201), r.text
    page = browser.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server}/alignments/csp-a/csp-b/view")
    edge = page.locator(".s.copied").first.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert edge == "rgb(192, 57, 43)"  # the inlined stylesheet applied
    page.locator(".s.copied[id^=b-]").first.click(position={"x": 200, "y": 10})
    assert page.locator(".s.active").count() >= 2  # the inlined script ran
    assert refused == []
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected") is None
    assert any("Content Security Policy" in m for m in refused)


def test_context_sentences_are_marked_with_the_semantic_model(
    settings: Settings,
    redis_client: redis.Redis,
    browser: Browser,
    seed_texts: dict[str, str],
    tmp_path: Path,
) -> None:
    """With COPYDESK_SEMANTIC, the context pass takes two sentences of 000 in
    beside its reused ones: the page tags them ``context``, says so in the
    legend, and says which evidence paired the sentences."""
    from playwright.sync_api import expect

    from service.api import create_app

    semantic = settings.model_copy(update={"semantic": True})
    with serve(create_app(semantic, client=redis_client)) as url:
        _store_pair(url, seed_texts)
        api = httpx.get(f"{url}/alignments/ani-000/out-001").json()
        expected = [s["index"] for s in api["a"] if s.get("context")]
        assert expected  # the case this test is about
        for width, size in (("1400", (1400, 900)), ("420", (420, 860))):
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.goto(f"{url}/alignments/ani-000/out-001/view")
            tagged = page.locator(".s[data-context=true]")
            expect(tagged).to_have_count(len(expected))
            ids = {tagged.nth(i).get_attribute("id") for i in range(len(expected))}
            assert ids == {f"a-{i}" for i in expected}  # rows follow B's order, not A's
            expect(tagged.first.locator(".tag.context")).to_be_visible()
            expect(page.locator(".legend .tag.context")).to_be_visible()
            expect(page.locator("footer")).to_contain_text("static word embeddings")
            shot = tmp_path / f"ui-alignment-context-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("UI_SCREENSHOTS"):
                shutil.copy(shot, Path(os.environ["UI_SCREENSHOTS"]) / shot.name)


def test_the_lexical_page_says_lexical_evidence_only(
    settings: Settings, redis_client: redis.Redis, browser: Browser, seed_texts: dict[str, str]
) -> None:
    """With COPYDESK_SEMANTIC=0 (lexical only)."""
    from service.api import create_app

    lexical_only = settings.model_copy(update={"semantic": False})
    with serve(create_app(lexical_only, client=redis_client)) as url:
        _check_lexical_page(url, browser, seed_texts)


def _check_lexical_page(live_server: str, browser: Browser, seed_texts: dict[str, str]) -> None:
    from playwright.sync_api import expect

    _store_pair(live_server, seed_texts)
    page = browser.new_page()
    page.goto(f"{live_server}/alignments/ani-000/out-001/view")
    expect(page.locator("footer")).to_contain_text("lexical evidence only")
    # The page tags exactly the sentences the lexical aligner's context pass
    # took in (the seeds' A-9 and A-10 since edges run at 0.12), no more.
    lexical = align(seed_texts["000"], seed_texts["001"], AlignParams())
    taken = sum(s.context for s in (*lexical.a, *lexical.b))
    expect(page.locator(".s[data-context=true]")).to_have_count(taken)
