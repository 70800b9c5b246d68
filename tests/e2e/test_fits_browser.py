"""An editor writing a post for Instagram then YouTube sees the picker offer only the files
every ticked network takes (as they are or once adapted), turns that off to see them all, and
narrows the library by network with a chip; on a desktop and on a phone."""

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import Campaign, CampaignScenario, MediaAsset, Platform, Role, SocialAccount
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in

pytestmark = pytest.mark.browser

FILES = {  # title: kind, mime, size, width, height, seconds
    "Affiche 5000 px": ("image", "image/png", 13_000_000, 5000, 2000, None),  # adapted for each network
    "Clip 45 s": ("video", "video/quicktime", 80_000_000, 1280, 720, "45"),
    "Film 25 min": ("video", "video/mp4", 900_000_000, 1920, 1080, "1500"),  # over Instagram's and YouTube's 15 min
    "Dossier de presse": ("document", "application/pdf", 5_000_000, None, None, None),
}


@pytest.fixture
def post_form(live_app):
    tag = uuid.uuid4().hex[:6]
    with live_app.app_context():
        email = f"fits-{tag}@example.org"
        accounts.create_user(email, "Fit Editor", Role.EDITOR, PASSWORD)
        campaign = Campaign(name=f"Salon {tag}")
        db.session.add(campaign)
        db.session.flush()
        for platform in (Platform.INSTAGRAM, Platform.YOUTUBE):
            account = SocialAccount(
                platform=platform,
                label=f"{platform.value} {tag}",
                make_connection_id=77,
                account_identifier=str(uuid.uuid4().int % 10**15),
            )
            db.session.add(account)
            db.session.flush()
            db.session.add(CampaignScenario(campaign_id=campaign.id, social_account_id=account.id, status="ready"))
        ids = []
        for title, (kind, mime, size, width, height, seconds) in FILES.items():
            asset = MediaAsset(
                title=title,
                filename=title,
                mime=mime,
                kind=kind,
                size_bytes=size,
                sha256=uuid.uuid4().hex * 2,
                storage_backend="local",
                status="ready",
                width=width,
                height=height,
                duration_s=Decimal(seconds) if seconds else None,
            )
            db.session.add(asset)
            db.session.flush()
            ids.append(asset.id)
        db.session.commit()
        campaign_id = campaign.id
    yield email, campaign_id
    with live_app.app_context():
        db.session.execute(sa.delete(MediaAsset).where(MediaAsset.id.in_(ids)))
        db.session.commit()


def offered(page) -> list[str]:
    return sorted(page.locator("#picker-media_ids-results .picker-tile .media-title").all_inner_texts())


def wait_offered(page, expected: list[str]) -> None:
    page.wait_for_function(
        """(expected) => JSON.stringify([...document.querySelectorAll(
        '#picker-media_ids-results .picker-tile .media-title')].map(t => t.textContent.trim()).sort())
        === JSON.stringify(expected)""",
        arg=sorted(expected),
        timeout=10_000,
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_picker_follows_the_targets_and_the_library_filters_by_network(
    browser, live_server, post_form, screenshot, viewport
):
    email, campaign_id = post_form
    name = "desktop" if viewport is DESKTOP else "phone"
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    errors = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/objects/new")
    wait_offered(page, list(FILES))  # no target yet: every file
    assert page.get_by_test_id("picker-fit").count() == 0

    page.locator("input[data-platform=instagram]").check()
    wait_offered(page, ["Affiche 5000 px", "Clip 45 s"])
    box = page.get_by_test_id("picker-fit")
    assert "fit every target (Instagram)" in box.inner_text()
    assert box.locator("input[type=checkbox]").is_checked()
    page.locator("input[data-platform=youtube]").check()
    wait_offered(page, ["Clip 45 s"])
    assert "(Instagram, YouTube)" in page.get_by_test_id("picker-fit").inner_text()
    page.get_by_test_id("picker-fit").scroll_into_view_if_needed()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"fits-picker-{name}")

    page.get_by_test_id("picker-fit").locator("input[type=checkbox]").uncheck()
    wait_offered(page, list(FILES))
    assert not page.get_by_test_id("picker-fit").locator("input[type=checkbox]").is_checked()
    page.locator("input[data-platform=youtube]").uncheck()  # the choice to see them all stays
    page.wait_for_function(
        "() => document.querySelector('[data-testid=picker-fit]').textContent.includes('(Instagram)')"
    )
    assert offered(page) == sorted(FILES)

    page.goto(f"{live_server.url}/media/")
    page.locator(".facet[data-facet=fits] .facet-chip", has_text="LinkedIn").click()
    page.wait_for_url("**/media/?fits=linkedin")
    page.wait_for_function("() => document.querySelectorAll('#media-grid .media-tile').length === 4")
    page.locator(".facet[data-facet=fits] .facet-chip", has_text="YouTube").click()
    page.wait_for_url("**/media/?fits=youtube&fits=linkedin")  # in the rules' order
    page.wait_for_function("() => document.querySelectorAll('#media-grid .media-tile').length === 1")
    assert page.locator("#media-grid .media-title").inner_text() == "Clip 45 s"
    assert page.locator(".filters-panel").get_attribute("open") is not None  # a filter is on: unfolded
    assert page.locator("input[name=fits][value=youtube]").is_checked()
    page.locator("input[name=fits][value=youtube]").scroll_into_view_if_needed()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"fits-library-{name}")
    assert errors == [], errors
    context.close()
