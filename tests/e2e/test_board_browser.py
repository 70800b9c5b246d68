"""The campaign board at the desk (1280x800) and on a phone (390x844): the eight columns without a
sideways scroll, headings that stay in view, filters kept in the address, each card's first
thumbnail, and the live posts linked from the card and from the post page."""

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, log_in
from tests.e2e.daily_seed import no_sideways_scroll, remove, seed

pytestmark = pytest.mark.browser

COLUMNS = ("draft", "in_review", "changes_requested", "approved", "scheduled", "publishing", "published", "failed")


@pytest.fixture(scope="module")
def world(live_app):
    world = seed(live_app)
    yield world
    remove(live_app, world)


def _page(browser, live_server, world, viewport):
    context = browser.new_context(
        viewport=viewport, locale="en-GB", has_touch=viewport is PHONE, is_mobile=viewport is PHONE
    )
    page = context.new_page()
    log_in(page, live_server.url, world.editor)
    return context, page


def test_all_eight_columns_fit_at_1280_with_sticky_headings(browser, live_server, world, screenshot):
    context, page = _page(browser, live_server, world, DESKTOP)
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}/board")
    width, inner = no_sideways_scroll(page)
    assert width <= inner, (width, inner)
    for status in COLUMNS:
        box = page.get_by_test_id(f"column-{status}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= inner, (status, box)
    # Empty columns collapse to their heading and count; the others share the width.
    empty = page.get_by_test_id("column-approved").bounding_box()["width"]
    full = page.get_by_test_id("column-in_review").bounding_box()["width"]
    assert empty < 0.8 * full, (empty, full)
    screenshot(page, "board-desktop")
    # The headings stay in view while the page scrolls past the top of the columns.
    page.set_viewport_size({"width": 1280, "height": 400})
    page.mouse.wheel(0, 300)
    page.wait_for_function("() => window.scrollY > 150")
    heading = page.locator("#col-in_review").bounding_box()
    assert 0 <= heading["y"] < 30, heading
    context.close()


def test_cards_show_thumbnail_and_live_links(browser, live_server, world, screenshot):
    context, page = _page(browser, live_server, world, DESKTOP)
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}/board")
    card = page.locator(f"[data-object-id='{world.posts['Ouverture des portes']}']")
    thumb = card.get_by_test_id("card-thumb").locator("img")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    links = card.get_by_test_id("live-links").locator("a")
    assert sorted(links.evaluate_all("els => els.map(a => a.href)")) == sorted(world.live.values())
    assert links.first.bounding_box()["height"] >= 32
    # The same live addresses on the post page, not only under "History".
    card.get_by_role("link", name="Ouverture des portes").click()
    page.get_by_test_id("live-links").wait_for()
    hrefs = page.get_by_test_id("live-links").locator("a").evaluate_all("els => els.map(a => a.href)")
    assert sorted(hrefs) == sorted(world.live.values())
    assert all(
        box["height"] >= 44
        for box in page.get_by_test_id("live-links")
        .locator("a")
        .evaluate_all("els => els.map(a => a.getBoundingClientRect().toJSON())")
    )
    screenshot(page, "post-published-desktop")
    context.close()


def test_filters_stay_in_the_address(browser, live_server, world):
    context, page = _page(browser, live_server, world, DESKTOP)
    board = f"{live_server.url}/campaigns/{world.campaign_id}/board"
    page.goto(board)
    page.get_by_label("Network").select_option("linkedin")
    page.wait_for_url("**network=linkedin**")
    page.wait_for_function("() => !document.querySelector('[data-testid=column-failed] [data-testid=object-card]')")
    page.get_by_label("Text").fill("programme")
    page.wait_for_url("**q=programme**")
    assert "network=linkedin" in page.url
    # A reload and the board's own links keep them.
    page.reload()
    assert page.get_by_label("Network").input_value() == "linkedin"
    assert page.get_by_label("Text").input_value() == "programme"
    views = page.get_by_role("navigation", name="Campaign views")
    assert "network=linkedin" in views.get_by_role("link", name="Calendar").get_attribute("href")
    # Back from a post to the board, the filters are still there.
    page.get_by_role("link", name="Programme des conférences").click()
    page.get_by_test_id("object-page").wait_for()
    page.go_back()
    page.wait_for_url("**network=linkedin**")
    assert page.get_by_label("Network").input_value() == "linkedin"
    # The card's quick action comes back to the same filtered board, and says what it did.
    page.get_by_label("Text").fill("teaser")
    draft = page.get_by_test_id("column-draft").locator(f"[data-object-id='{world.posts['Teaser du salon']}']")
    page.wait_for_url("**q=teaser**")  # the board swapped in for the new filter
    draft.wait_for()
    draft.get_by_role("button", name="Submit for review").click()
    page.get_by_test_id("flash").wait_for()
    assert "Sent to review" in page.get_by_test_id("flash").inner_text()
    assert "network=linkedin" in page.url and "q=teaser" in page.url and "/submit" not in page.url
    assert page.get_by_label("Network").input_value() == "linkedin"
    page.get_by_test_id("column-in_review").locator(f"[data-object-id='{world.posts['Teaser du salon']}']").wait_for()
    context.close()


def test_board_on_a_phone_has_no_sideways_scroll(browser, live_server, world, screenshot):
    context, page = _page(browser, live_server, world, PHONE)
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}/board")
    page.get_by_test_id("board").wait_for()
    width, inner = no_sideways_scroll(page)
    assert width <= inner, (width, inner)
    thumb = page.locator(f"[data-object-id='{world.posts['Teaser du salon']}'] [data-testid=card-thumb] img")
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "board-phone")
    context.close()
