"""On a phone, an editor inserts the team's hashtag group into the message from "Insert…" and the
server's counter follows (app/static/snippets.js inserts at the cursor and fires an input event;
nothing is counted in the browser); then into X's own version, from the keyboard."""

import uuid

import pytest
from playwright.sync_api import expect

from app.auth import service as accounts
from app.extensions import db
from app.models import HashtagGroup, Platform, Role, TextSnippet
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in
from tests.objects_support import make_objects, seed_campaign

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def campaign(live_app):
    with live_app.app_context():
        email = f"snippets-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Snippet Editor", Role.EDITOR, PASSWORD)
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        make_objects(seed.campaign_id, [seed.scenarios["x"]], [], 1)
        db.session.add_all(
            [
                HashtagGroup(name="Salon", hashtags=["#Salon2027", "#Paris"]),
                TextSnippet(name="Signature", text="L’équipe du salon"),
            ]
        )
        db.session.commit()
        return email, seed.campaign_id


def test_a_hashtag_group_goes_in_at_the_cursor_and_the_counter_follows(browser, live_server, campaign, screenshot):
    email, campaign_id = campaign
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/new")
    page.get_by_label("X — x ready").check()
    x_counter = page.locator("#message-counters li[data-platform=x]")
    expect(x_counter).to_contain_text("0 / 280")
    message = page.get_by_label("Message", exact=True)
    message.fill("Rendez-vous au salon")
    message.press("Home")
    for _ in range(len("Rendez-vous")):
        message.press("ArrowRight")  # the cursor after "Rendez-vous"
    expect(x_counter).to_contain_text("20 / 280")

    page.get_by_text("Insert…").tap()
    choices = page.get_by_test_id("snippet-choices")
    expect(choices.locator(".snippet-choice")).to_have_count(2)
    page.get_by_test_id("snippet-filter").fill("#par")
    expect(choices).to_have_attribute("data-q", "#par")
    expect(choices.locator(".snippet-choice")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "snippets-insert-phone-open")
    choices.get_by_role("button", name="Salon").tap()

    assert message.input_value() == "Rendez-vous #Salon2027 #Paris au salon"
    expect(x_counter).to_contain_text(f"{len('Rendez-vous #Salon2027 #Paris au salon')} / 280")
    assert page.evaluate("document.activeElement.id") == "message"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "snippets-insert-phone-done")

    # X's own version: the box follows its text; Enter in the filter takes the first choice.
    page.get_by_role("tab", name="X").tap()
    page.get_by_test_id("version-x").get_by_label("Use the base text").uncheck()
    own = page.get_by_test_id("version-x").locator("textarea[data-version-message]")
    own.fill("Court pour X")
    picker = page.get_by_test_id("version-x").get_by_test_id("snippet-picker")
    picker.get_by_text("Insert…").tap()
    page.get_by_test_id("snippet-filter").fill("équipe")
    page.get_by_test_id("snippet-filter").press("Enter")  # before or after the list follows
    expect(own).to_have_value("Court pour X L’équipe du salon")
    assert own.input_value() == "Court pour X L’équipe du salon"
    expect(page.get_by_test_id("counter-x")).to_contain_text(f"{len('Court pour X L’équipe du salon')} / 280")
    assert message.input_value() == "Rendez-vous #Salon2027 #Paris au salon"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "snippets-insert-phone-version")
    assert errors == [], errors

    # The team's page, from the campaigns' page, and a refused group that keeps what was typed.
    page.goto(f"{live_server.url}/campaigns/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "campaigns-phone")
    page.get_by_test_id("snippets-link").tap()
    expect(page.get_by_test_id("snippet-listing")).to_contain_text("#Salon2027 #Paris")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "snippets-page-phone")
    page.get_by_test_id("new-hashtags").tap()
    page.get_by_label("Name").fill("Rentrée")
    page.get_by_label("Hashtags").fill("#Rentree2027 ecole")
    page.get_by_role("button", name="Save").tap()
    expect(page.locator(".field-error")).to_contain_text("“ecole” does not start with #.")
    expect(page.get_by_label("Hashtags")).to_have_value("#Rentree2027 ecole")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "snippets-form-error-phone")

    # Duplicating a post, on the phone.
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/board")
    page.get_by_role("link", name="Post 0").first.tap()
    page.get_by_test_id("duplicate-object").tap()
    expect(page.get_by_label("Into the campaign")).to_have_value(str(campaign_id))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "duplicate-form-phone")
    context.close()


def test_at_desktop_width_the_page_and_the_copy_of_a_post(browser, live_server, live_app, campaign, screenshot):
    email, campaign_id = campaign
    with live_app.app_context():
        db.session.add_all([TextSnippet(name=f"Appel {n:02d}", text=f"Inscrivez-vous, place {n}") for n in range(20)])
        db.session.commit()
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/snippets/")
    listing = page.get_by_test_id("snippet-listing")
    expect(listing).to_contain_text("L’équipe du salon")
    # 22 pieces: the search appears and filters as one types (the address keeps it).
    page.get_by_test_id("snippet-search").fill("place 1")
    expect(listing).not_to_contain_text("L’équipe du salon")
    expect(listing.locator(".snippet-item")).to_have_count(11)  # place 1, 10-19
    assert page.url.endswith("/snippets/?q=place%201")
    screenshot(page, "snippets-page-desktop")
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/board")
    page.get_by_role("link", name="Post 0").click()
    page.get_by_test_id("duplicate-object").click()
    screenshot(page, "duplicate-form-desktop")
    page.get_by_test_id("duplicate-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Copy saved as a draft.")
    expect(page.locator("h1")).to_contain_text("Post 0 (copy)")
    screenshot(page, "duplicate-done-desktop")
    context.close()
