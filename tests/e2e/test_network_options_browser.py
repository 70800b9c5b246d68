"""A network's own settings in the post form (app/network_options.py): an editor opens the
YouTube tab, is told what the Make scenario cannot pass on, gets a clear refusal for a title
YouTube would refuse without losing what was typed, saves a title and a visibility, and finds
them on the post page; on a desktop and at 390 px, never scrolling sideways."""

import uuid

import pytest
from playwright.sync_api import expect

from app import versions
from app.auth import service as accounts
from app.extensions import db
from app.models import ContentObject, MediaKind, ObjectStatus, Platform, Role
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in
from tests.objects_support import make_asset, make_objects, seed_campaign

pytestmark = pytest.mark.browser


@pytest.fixture
def post(live_app):
    with live_app.app_context():
        email = f"options-{uuid.uuid4().hex[:6]}@example.org"
        user = accounts.create_user(email, "Options Editor", Role.EDITOR, PASSWORD)
        seed = seed_campaign(platforms=(Platform.YOUTUBE,), extra_statuses=(), media=0)
        clip = make_asset(f"clip-{uuid.uuid4().hex[:4]}", mime="video/mp4", kind=MediaKind.VIDEO, size=(1280, 720))
        clip.duration_s = 30
        [object_id] = make_objects(
            seed.campaign_id,
            [seed.scenarios["youtube"]],
            [clip.id],
            1,
            author_id=user.id,
            statuses=(ObjectStatus.DRAFT,),
        )
        return email, seed.campaign_id, object_id


def _fits(page, viewport):
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"], wide


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_youtube_title_and_visibility_from_the_form_to_the_post_page(
    browser, live_server, live_app, post, screenshot, viewport, name
):
    email, campaign_id, object_id = post
    context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=viewport is PHONE)
    page = context.new_page()
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/{object_id}/edit")
    page.locator("#version-youtube-tab").click()
    settings = page.get_by_test_id("network-options-youtube")
    expect(settings).to_be_visible()
    # What the Make scenario cannot pass on is said beside the setting, not dropped silently.
    expect(settings.locator("[data-option=tags]")).to_contain_text("Make does not pass this setting on")
    expect(settings.locator("[data-option=privacy]").get_by_test_id("option-unsupported")).to_have_count(0)
    settings.get_by_label("Video title").fill("Le salon <2026>")
    settings.get_by_label("Visibility").select_option("unlisted")
    _fits(page, viewport)
    page.get_by_role("button", name="Save the post").click()
    # Refused with the reason, what was typed kept.
    page.locator("#version-youtube-tab").click()
    settings = page.get_by_test_id("network-options-youtube")
    expect(settings.locator("[data-option=title] .field-error")).to_have_text(
        "The characters < and > are not accepted."
    )
    expect(settings.get_by_label("Video title")).to_have_value("Le salon <2026>")
    expect(settings.get_by_label("Visibility")).to_have_value("unlisted")
    _fits(page, viewport)
    screenshot(page, f"network-options-refused-{name}")
    settings.get_by_label("Video title").fill("Le salon 2026 en vidéo")
    page.get_by_role("button", name="Save the post").click()
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign_id}/objects/{object_id}")
    with live_app.app_context():
        saved = versions.version(db.session.get(ContentObject, object_id), Platform.YOUTUBE)
        assert saved.options == {"title": "Le salon 2026 en vidéo", "privacy": "unlisted"}
    expect(page.get_by_test_id("options-summary-youtube").first).to_contain_text("Visibility: Unlisted")
    _fits(page, viewport)
    screenshot(page, f"network-options-post-{name}")
    context.close()
