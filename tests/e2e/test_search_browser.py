"""An editor searches the library as she types (with a typo), narrows the results with a facet
chip, comes back with the browser's back button to the query she had, walks the results from
the keyboard and opens one; then the same pages at phone width, and the picker's search.
Chromium against the live server; PostgreSQL answers (no Meilisearch configured)."""

import re
import uuid

import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, Role, User
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in
from tests.search.conftest import seed_corpus

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def library(live_app):
    """An editor and the search corpus, committed; removed afterwards for the other modules."""
    with live_app.app_context():
        email = f"searcher-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Search Editor", Role.EDITOR, PASSWORD)
        db.session.commit()
        corpus = seed_corpus()
    yield email, corpus
    with live_app.app_context():
        db.session.execute(sa.delete(MediaAsset).where(MediaAsset.id.in_(corpus.ids.values())))
        db.session.execute(sa.delete(User).where(User.id.in_(corpus.uploaders)))
        db.session.commit()


def _login(browser, live_server, email, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    errors = []  # script errors and CSP violations; not the thumbnails other modules left without files
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    log_in(page, live_server.url, email)
    return context, page, errors


def _titles(page) -> list[str]:
    return sorted(page.locator("#media-grid .media-title").all_inner_texts())


def _wait_for_titles(page, expected: list[str]) -> None:
    page.wait_for_function(
        """(expected) => JSON.stringify([...document.querySelectorAll(
        '#media-grid .media-title')].map(t => t.textContent.trim()).sort()) === JSON.stringify(expected)""",
        arg=sorted(expected),
        timeout=10_000,
    )


def _active(page):
    return page.evaluate("() => [document.activeElement.className, document.activeElement.textContent.trim()]")


LYON = ["Marathon de Lyon", "Photo équipe communication"]


def test_instant_search_facets_history_and_keyboard(browser, live_server, library, screenshot):
    email, corpus = library
    context, page, errors = _login(browser, live_server, email, DESKTOP)
    page.goto(live_server.url + "/media/")
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

    page.locator("#media-q").press_sequentially("campgane", delay=40)
    _wait_for_titles(page, ["Campagne recrutement printemps"])
    page.wait_for_url("**/media/?q=campgane")
    assert page.locator("#media-grid mark").all_inner_texts() == ["Campagne", "campagne"]  # title, snippet
    assert "1 result" in page.get_by_test_id("search-meta").inner_text()
    screenshot(page, "search-typo-desktop")

    page.locator("#media-q").fill("lyon")
    _wait_for_titles(page, LYON)
    page.wait_for_url("**/media/?q=lyon")
    screenshot(page, "search-facets-desktop")
    page.locator(".facet-chip", has_text="October 2025").click()
    _wait_for_titles(page, ["Marathon de Lyon"])
    page.wait_for_url("**/media/?q=lyon&date_from=2025-10-01&date_to=2025-10-31")
    assert page.locator("#filter-from").input_value() == "01/10/2025"  # day first, the link keeps ISO
    assert page.locator(".facet-chip.active").count() == 1
    assert page.evaluate("() => window.sameDocument") is True
    screenshot(page, "search-chip-desktop")

    page.go_back()
    page.wait_for_url("**/media/?q=lyon")
    _wait_for_titles(page, LYON)
    assert page.locator("#media-q").input_value() == "lyon" and page.locator("#filter-from").input_value() == ""
    page.go_back()
    page.wait_for_url("**/media/?q=campgane")
    _wait_for_titles(page, ["Campagne recrutement printemps"])
    assert page.locator("#media-q").input_value() == "campgane"

    page.locator("#media-q").fill("lyon")
    _wait_for_titles(page, LYON)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "media-q"
    page.keyboard.press("ArrowDown")
    first = _active(page)
    assert first[0].startswith("media-card")
    page.keyboard.press("ArrowRight")
    second = _active(page)
    assert second[0].startswith("media-card") and second[1] != first[1]
    page.keyboard.press("ArrowLeft")
    assert _active(page) == first
    page.keyboard.press("ArrowUp")  # from the first row back to the box
    assert page.evaluate("() => document.activeElement.id") == "media-q"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/media/\d+$"))
    assert page.locator("h1.asset-title").inner_text() in LYON
    page.go_back()
    page.wait_for_url("**/media/?q=lyon")
    _wait_for_titles(page, LYON)

    page.locator("#media-q").focus()
    page.keyboard.press("Escape")  # clears the box, shows everything
    page.wait_for_url("**/media/")
    page.wait_for_function("() => document.querySelectorAll('#media-grid .media-tile').length >= 11")
    assert page.locator("#media-q").input_value() == ""

    page.locator("#media-q").fill("zzqxv")
    page.wait_for_selector("[data-testid=no-match]")
    assert "No media match “zzqxv”" in page.get_by_test_id("no-match").inner_text()
    screenshot(page, "search-empty-desktop")
    assert errors == [], errors
    context.close()


def test_search_at_phone_width_and_in_the_picker(browser, live_server, library, screenshot):
    email, corpus = library
    context, page, errors = _login(browser, live_server, email, PHONE)
    page.goto(live_server.url + "/media/?q=lyon")
    _wait_for_titles(page, LYON)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "search-facets-phone")

    page.goto(live_server.url + f"/media/picker?field=media_ids&media_ids={corpus.ids['plan']}")
    page.locator("#picker-media_ids-q").press_sequentially("marathn", delay=40)
    page.wait_for_function(
        """() => [...document.querySelectorAll('#picker-media_ids-results .media-title')]
        .map(t => t.textContent.trim()).join('|') === 'Marathon de Lyon'""",
        timeout=10_000,
    )
    page.get_by_role("button", name="Add “Marathon de Lyon”").click()
    page.wait_for_selector(f"#picker-media_ids-selection li[data-asset-id='{corpus.ids['marathon']}']")
    page.locator("#picker-media_ids-q").fill("")
    page.wait_for_function("() => document.querySelectorAll('#picker-media_ids-results .picker-tile').length >= 11")
    chosen = page.locator("#picker-media_ids-selection li").evaluate_all("(rows) => rows.map(r => r.dataset.assetId)")
    assert chosen == [str(corpus.ids["plan"]), str(corpus.ids["marathon"])]  # kept, in order
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "search-picker-phone")
    assert errors == [], errors
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_enter_in_the_search_box_adds_no_history_entry(browser, live_server, library, viewport):
    """Typing searches and puts the query in the address; Enter on the same query then must not
    push it a second time: one Back returns to the state before the search."""
    email, corpus = library
    context, page, errors = _login(browser, live_server, email, viewport)
    page.goto(live_server.url + "/media/?q=campgane")
    _wait_for_titles(page, ["Campagne recrutement printemps"])
    depth = page.evaluate("() => history.length")

    page.locator("#media-q").fill("lyon")
    _wait_for_titles(page, LYON)
    page.wait_for_url("**/media/?q=lyon")
    with page.expect_response(lambda r: "/media/?q=lyon" in r.url and r.request.headers.get("hx-request")):
        page.locator("#media-q").press("Enter")
    page.wait_for_load_state("networkidle")
    _wait_for_titles(page, LYON)
    assert page.evaluate("() => history.length") == depth + 1  # one entry for the search

    page.go_back()
    page.wait_for_url("**/media/?q=campgane")
    _wait_for_titles(page, ["Campagne recrutement printemps"])
    assert page.locator("#media-q").input_value() == "campgane"

    # Enter pressed while the typed query is still waiting for its debounce: still one entry.
    page.locator("#media-q").fill("marathon")
    page.locator("#media-q").press("Enter")
    page.wait_for_url("**/media/?q=marathon")
    _wait_for_titles(page, ["Marathon de Lyon"])
    page.wait_for_timeout(400)  # the debounced request lands too
    page.wait_for_load_state("networkidle")
    page.go_back()
    page.wait_for_url("**/media/?q=campgane")
    _wait_for_titles(page, ["Campagne recrutement printemps"])
    assert errors == [], errors
    context.close()
