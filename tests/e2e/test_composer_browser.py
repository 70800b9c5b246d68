"""The composer: an editor writes an X version under 280 characters and a LinkedIn version of
1,500 in their tabs, the server's counters follow each tab as they type, the live preview beside
the form (a tab of its own on a phone) shows each network's version, and the page never scrolls
sideways; on a desktop and at 390 px."""

import uuid

import pytest
from playwright.sync_api import expect

from app import versions
from app.auth import service as accounts
from app.campaigns import objects
from app.extensions import db
from app.models import ContentObject, Platform, Role
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, CounterWatch, log_in, real_errors
from tests.objects_support import make_asset, seed_campaign

pytestmark = pytest.mark.browser

FAMILY = "Famille \U0001f468\u200d\U0001f469\u200d\U0001f467 au salon"
X_TEXT = FAMILY + " " + "x" * 100  # X counts 19 + 1 + 100 = 120
LINKEDIN_TEXT = ("Le salon ouvre ses portes lundi. " * 50)[:1499]


@pytest.fixture
def campaign(live_app):
    with live_app.app_context():
        email = f"composer-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Composer Editor", Role.EDITOR, PASSWORD)
        seed = seed_campaign(platforms=(Platform.LINKEDIN, Platform.X), extra_statuses=(), media=2)
        return email, seed.campaign_id


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_versions_for_x_and_linkedin_with_counters_and_preview(
    browser, live_server, live_app, campaign, screenshot, viewport, name
):
    email, campaign_id = campaign
    context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/new")
    page.get_by_label("Title").fill(f"Salon {name}")
    page.get_by_label("Message", exact=True).fill("Le texte de base, pour tous les réseaux.")
    x_tab, linkedin_tab = page.locator("#version-x-tab"), page.locator("#version-linkedin-tab")
    expect(x_tab).to_be_hidden()
    page.get_by_label("X — x ready").check()
    page.get_by_label("LinkedIn — linkedin ready").check()
    expect(x_tab).to_be_visible()
    expect(page.get_by_text("Without JavaScript the preview is not shown here")).to_be_hidden()
    # The base tab with the media picker and its library loaded fits the screen too.
    page.get_by_test_id("object-form").locator(".picker-grid li").first.wait_for()
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"], wide
    screenshot(page, f"composer-base-{name}")

    # X: its own text, typed; the counter is the server's and follows within a pause and a trip.
    x_tab.click()
    expect(x_tab.locator("[data-modified]")).to_be_hidden()
    page.locator("#version-x-panel").get_by_label("Use the base text").uncheck()
    expect(x_tab.locator("[data-modified]")).to_be_visible()
    x_box = page.get_by_label("Text for X")
    expect(x_box).to_have_value("Le texte de base, pour tous les réseaux.")  # starts from the base
    x_box.fill(X_TEXT[:-5])
    watch = CounterWatch(page, "version-x-message", "version-x-counters", "120 / 280")
    x_box.press("End")
    x_box.press_sequentially(X_TEXT[-5:], delay=40)
    latency = watch.latency()
    print(f"\n[{name}] X tab: last keystroke -> counter shown {latency:.0f} ms")
    # 100 ms of pause, then one round trip: 130-280 ms measured on this machine when idle (printed
    # above); the bound leaves room for a loaded machine (700 ms seen then), not for a lost debounce.
    assert latency < 1000
    assert page.locator("#version-x-counters li").count() == 1  # this tab's network only

    # LinkedIn: 1,500 characters of its own.
    linkedin_tab.click()
    expect(page.locator("#version-x-panel")).to_be_hidden()
    page.locator("#version-linkedin-panel").get_by_label("Use the base text").uncheck()
    linkedin_box = page.get_by_label("Text for LinkedIn")
    linkedin_box.fill(LINKEDIN_TEXT)
    linkedin_box.press("End")
    linkedin_box.press("!")
    page.locator("#version-linkedin-counters li", has_text="1500 / 3000").wait_for(timeout=5_000)
    if viewport is DESKTOP:
        # Its own files: the picker appears in the tab, and the preview follows the selection.
        linkedin_panel = page.locator("#version-linkedin-panel")
        alt_texts = linkedin_panel.get_by_test_id("alt-texts-linkedin")
        expect(alt_texts).to_contain_text("No image in this version.")
        linkedin_panel.get_by_label("A selection and order of its own").check()
        linkedin_panel.get_by_role("button", name="Add “Affiche 1”").first.click()
        expect(linkedin_panel.locator(".picker-chosen li")).to_have_count(1)
        # Its alt-text fields follow the tab's files, without reloading the page.
        expect(alt_texts.get_by_label("Affiche 1")).to_be_visible()
        alt_texts.get_by_label("Affiche 1").fill("L'affiche du salon, en bleu")
        screenshot(page, "composer-alt-texts-desktop")
        card = page.get_by_test_id("composer-preview").get_by_test_id("preview-linkedin")
        expect(card.locator(".rendition-preview")).to_have_count(1)

    # The preview: the network of the open tab, rendered by the server from the form as typed.
    preview = page.get_by_test_id("composer-preview")
    if viewport is PHONE:
        expect(preview).to_be_hidden()
        page.get_by_test_id("composer-view-preview").click()
        expect(page.get_by_test_id("object-form")).to_be_hidden()
    else:
        form_box, preview_box = page.get_by_test_id("object-form").bounding_box(), preview.bounding_box()
        assert preview_box["x"] >= form_box["x"] + form_box["width"]  # side by side
    linkedin_card = preview.get_by_test_id("preview-linkedin")
    expect(linkedin_card).to_be_visible()
    expect(linkedin_card).to_contain_text("1500 / 3000 characters")
    expect(preview.get_by_test_id("preview-x")).to_be_hidden()
    preview.get_by_role("button", name="X", exact=True).click()
    expect(preview.get_by_test_id("preview-x")).to_contain_text("120 / 280 characters")
    expect(preview.get_by_test_id("preview-x")).to_contain_text(FAMILY)
    expect(linkedin_card).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    print(f"[{name}] page scrollWidth {width} px at {viewport['width']} px")
    assert width == viewport["width"]
    screenshot(page, f"composer-preview-{name}")
    if viewport is PHONE:
        page.get_by_role("tab", name="Write").click()
    x_tab.click()
    assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]
    screenshot(page, f"composer-form-{name}")

    page.get_by_role("button", name="Save the post").click()
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign_id}/objects/*")
    with live_app.app_context():
        obj = db.session.scalar(db.select(ContentObject).where(ContentObject.title == f"Salon {name}"))
        saved = versions.versions(obj)
        assert saved[Platform.X].message == X_TEXT
        assert len(saved[Platform.LINKEDIN].message) == 1500
        if viewport is DESKTOP:
            assert list(saved[Platform.LINKEDIN].options["alt_texts"].values()) == ["L'affiche du salon, en bleu"]
        assert obj.message == "Le texte de base, pour tous les réseaux."
    assert real_errors(errors) == [], errors
    context.close()


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_without_javascript_the_x_version_is_written_and_saved(
    browser, live_server, live_app, campaign, screenshot, viewport, name
):
    """No script (turned off, or failed): the tab bar stays hidden and each ticked network's tab
    is shown under its heading after the base, so the X version can still be written."""
    email, campaign_id = campaign
    tag = uuid.uuid4().hex[:6]
    with live_app.app_context():  # the newest of the library: among the boxes shown
        first, second = (make_asset(f"{title} {tag}") for title in ("Plan", "Badge"))
        db.session.commit()
        titles = [second.title, first.title]  # newest first
    context = browser.new_context(viewport=viewport, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/new")
    page.get_by_label("Title").fill(f"Sans script {name}")
    page.get_by_label("Message", exact=True).fill("Le texte de base, pour tous les réseaux.")
    page.get_by_label("X — x ready").check()
    # The picker needs the script: boxes stand in for it, the newest files of the library.
    boxes = page.get_by_test_id("noscript-media")
    expect(boxes).to_be_visible()
    boxes.get_by_label(titles[1]).check()
    boxes.get_by_label(titles[0]).check()
    page.get_by_role("button", name="Save the post").click()
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign_id}/objects/*")
    with live_app.app_context():
        obj = db.session.scalar(db.select(ContentObject).where(ContentObject.title == f"Sans script {name}"))
        assert [asset.title for asset in objects.media_of(obj)] == titles  # in the order shown
    page.goto(page.url.rstrip("/") + "/edit")
    # The chosen files come first, ticked; unticking one takes it out.
    boxes = page.get_by_test_id("noscript-media")
    assert titles[0] in boxes.locator("li").first.inner_text()
    assert boxes.locator("input:checked").count() == 2

    expect(page.get_by_test_id("version-tabs")).to_be_hidden()
    panel = page.locator("#version-x-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="X")).to_be_visible()
    expect(page.locator("#version-linkedin-panel")).to_be_hidden()  # not ticked
    # What needs the script says so instead of "Loading…" forever.
    expect(page.get_by_text("Without JavaScript, tick the files below")).to_be_visible()
    if viewport is DESKTOP:  # a phone shows the form only (the switch to the preview needs the script)
        expect(page.get_by_text("Without JavaScript the preview is not shown here")).to_be_visible()
    panel.get_by_label("Use the base text").uncheck()
    page.get_by_label("Text for X").fill("Court pour X, écrit sans script")
    panel.get_by_label("A link of its own").check()
    panel.get_by_label("Link for X", exact=True).last.fill("https://example.org/x")
    assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]
    boxes.get_by_label(titles[0]).uncheck()
    screenshot(page, f"composer-nojs-{name}")
    page.get_by_role("button", name="Save the post").click()
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign_id}/objects/*")
    with live_app.app_context():
        obj = db.session.scalar(db.select(ContentObject).where(ContentObject.title == f"Sans script {name}"))
        saved = versions.versions(obj)[Platform.X]
        assert saved.message == "Court pour X, écrit sans script" and saved.link == "https://example.org/x"
        assert obj.message == "Le texte de base, pour tous les réseaux."
        assert [asset.title for asset in objects.media_of(obj)] == titles[1:]
    context.close()
