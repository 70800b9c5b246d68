"""The counters under a post's message come from the server (app/text_count.py) as the editor
types: an emoji family counts 19 / 280 for X, as X counts it; a draft swapped in is counted too."""

import uuid

import pytest
from playwright.sync_api import expect

from app.auth import service as accounts
from app.campaigns import drafting
from app.models import Platform, Role
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, CounterWatch, log_in
from tests.objects_support import seed_campaign

pytestmark = pytest.mark.browser

FAMILY = "Famille \U0001f468\u200d\U0001f469\u200d\U0001f467 au salon"


@pytest.fixture
def campaign(live_app):
    with live_app.app_context():
        email = f"counter-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Counter Editor", Role.EDITOR, PASSWORD)
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        return email, seed.campaign_id


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_typing_an_emoji_family_counts_19_for_x(browser, live_server, live_app, campaign, screenshot, viewport, name):
    email, campaign_id = campaign
    context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/new")
    page.get_by_label("X — x ready").check()
    page.get_by_label("Instagram — instagram ready").check()
    counters = page.locator("#message-counters li")
    expect(counters).to_have_count(2)
    assert [t.split()[0] for t in counters.all_inner_texts()] == ["Instagram", "X"]

    watch = CounterWatch(page, "message", "message-counters", "19 / 280")
    message = page.get_by_label("Message", exact=True)
    message.click()
    message.press_sequentially(FAMILY, delay=40)
    latency, requests = watch.latency(), watch.requests()
    print(
        f"\n[{name}] last keystroke -> counter shown: {latency:.0f} ms; "
        f"counting requests: {len(requests)}, longest round trip {max(requests):.0f} ms"
    )
    # debounced: a handful of requests for the whole sentence, not one per keystroke
    assert len(requests) <= 3
    # the 150 ms pause after typing, then one round trip: about 175-230 ms when measured on this
    # machine (printed above); the bound leaves room for a loaded machine, not for a lost debounce
    assert 150 <= latency < 600
    assert "Instagram" in counters.first.inner_text() and f"{len(FAMILY)} / 2200" in counters.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"text-count-{name}")

    # One over: X's 280 with a URL without a scheme counted 23, then one more character.
    message.fill("Voir example.org/salon " + "a" * 251)
    page.locator("#message-counters li[data-platform=x]", has_text="280 / 280").wait_for()
    message.press("End")
    message.press("!")
    page.locator("#message-counters li.over[data-platform=x]", has_text="281 / 280").wait_for()
    # (the picker lists other tests' files too, whose thumbnails live in their own folders: 404)
    assert [e for e in errors if "status of 404" not in e] == [], errors
    context.close()


def test_a_draft_swapped_in_is_counted(browser, live_server, live_app, campaign):
    """The message N8N drafted replaces the field ("Use this draft"): its counters follow."""
    email, campaign_id = campaign
    request_id = uuid.uuid4().hex
    with live_app.app_context():
        drafting._store(campaign_id, request_id, {"state": "ready", "message": "Drapeau \U0001f1eb\U0001f1f7"})
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/new")
    page.get_by_label("X — x ready").check()
    page.locator("#message-counters li[data-platform=x]", has_text="0 / 280").wait_for()
    # the request the "Use this draft" button makes (app/templates/campaigns/_draft.html)
    page.evaluate(
        "url => htmx.ajax('GET', url, {target: '#message', swap: 'outerHTML'})",
        f"/campaigns/{campaign_id}/draft/{request_id}/message",
    )
    page.locator("#message-counters li[data-platform=x]", has_text="10 / 280").wait_for(timeout=5_000)
    assert page.get_by_label("Message", exact=True).input_value() == "Drapeau \U0001f1eb\U0001f1f7"
    context.close()
