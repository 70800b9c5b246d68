"""An editor writes a post with two photos from the picker for two accounts, sees how each
network will show it, and submits it for review; on a phone and on a desktop."""

import io
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
import sqlalchemy as sa
from PIL import Image

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    MediaAsset,
    ObjectMedia,
    ObjectStatus,
    Platform,
    Role,
    SocialAccount,
)
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def media_root(live_app, tmp_path_factory):
    """One folder for the module: the picker also lists the photos of the previous run."""
    previous = live_app.config.get("MEDIA_ROOT")
    root = tmp_path_factory.mktemp("object-media")
    live_app.config["MEDIA_ROOT"] = str(root)
    yield root
    live_app.config["MEDIA_ROOT"] = previous


@pytest.fixture
def campaign(live_app, media_root):
    """A campaign with two ready accounts, and two ready photos with real thumbnail files."""
    tmp_path = media_root
    tag = uuid.uuid4().hex[:6]
    with live_app.app_context():
        email = f"editor-{tag}@example.org"
        accounts.create_user(email, "Browser Editor", Role.EDITOR, PASSWORD)
        campaign = Campaign(name=f"Salon {tag}")
        db.session.add(campaign)
        db.session.flush()
        for platform, label in ((Platform.INSTAGRAM, "Marque FR"), (Platform.LINKEDIN, "Société")):
            account = SocialAccount(
                platform=platform, label=label, make_connection_id=77, account_identifier=str(uuid.uuid4().int % 10**15)
            )
            db.session.add(account)
            db.session.flush()
            db.session.add(CampaignScenario(campaign_id=campaign.id, social_account_id=account.id, status="ready"))
        titles = []
        for n, color in enumerate(((200, 40, 40), (40, 90, 200))):
            (tmp_path / "thumbs").mkdir(exist_ok=True)
            out = io.BytesIO()
            Image.new("RGB", (320, 320), color).save(out, "WEBP")
            (tmp_path / "thumbs" / f"{tag}-{n}.webp").write_bytes(out.getvalue())
            title = f"Affiche {tag} {n}"
            db.session.add(
                MediaAsset(
                    title=title,
                    filename=f"{title}.jpg",
                    mime="image/jpeg",
                    kind="image",
                    size_bytes=300_000,
                    sha256=uuid.uuid4().hex * 2,
                    storage_backend="local",
                    status="ready",
                    width=1080,
                    height=1080,
                    thumb_path=f"thumbs/{tag}-{n}.webp",
                )
            )
            titles.append(title)
        # Something on the calendar: a post scheduled on the 10th of next month, 09:00 UTC.
        first = (date.today().replace(day=1) + timedelta(days=32)).replace(day=10)
        db.session.add(
            ContentObject(
                campaign_id=campaign.id,
                title="Ouverture des portes",
                message="C’est parti !",
                status=ObjectStatus.SCHEDULED,
                scheduled_at=datetime(first.year, first.month, 10, 9, tzinfo=timezone.utc),
            )
        )
        db.session.commit()
        asset_ids = list(db.session.scalars(sa.select(MediaAsset.id).where(MediaAsset.title.in_(titles))))
        return email, campaign.id, titles, asset_ids


def _foreign_thumb(url: str, ours: set[str]) -> bool:
    match = re.search(r"/media/(\d+)/thumb", url)
    return bool(match) and match.group(1) not in ours


@pytest.mark.parametrize("viewport, name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_editor_writes_previews_and_submits_a_post(
    browser, live_server, live_app, campaign, screenshot, viewport, name
):
    email, campaign_id, titles, asset_ids = campaign
    context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=viewport is PHONE)
    page = context.new_page()
    errors, failed = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    log_in(page, live_server.url, email)

    page.goto(f"{live_server.url}/campaigns/{campaign_id}/board")
    page.get_by_test_id("new-object").click()
    page.get_by_label("Title", exact=True).fill("Teaser du salon")
    page.get_by_label("Message", exact=True).fill("Rendez-vous au salon le 12 mars ! #salon2026")
    page.get_by_label("Link", exact=True).fill("https://example.org/salon")
    for title in reversed(titles):  # the second photo first: the order is the editor's
        page.get_by_role("button", name=f"Add “{title}”").click()
        page.wait_for_selector(f"#picker-media_ids-selection li:has-text('{title}')")
    page.get_by_label("Instagram — Marque FR").check()
    page.get_by_label("LinkedIn — Société").check()
    counters = page.locator("#message-counters li")
    expect(counters).to_have_count(2)  # asked from the server (app/text_count.py) as targets are ticked
    assert "/ 2200" in counters.all_inner_texts()[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"object-form-{name}")
    page.get_by_role("button", name="Save the post").click()

    page.get_by_test_id("preview-instagram").wait_for()
    for network in ("instagram", "linkedin"):
        card = page.get_by_test_id(f"preview-{network}")
        assert "Rendez-vous au salon" in card.inner_text()
        assert card.locator("img").count() == 2
        assert card.locator("img").first.evaluate("img => img.complete && img.naturalWidth > 0")
        assert "Fits this network" in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"object-previews-{name}")
    page.get_by_test_id("submit-object").click()
    page.wait_for_selector("[data-testid=object-page][data-status=in_review]")
    screenshot(page, f"object-submitted-{name}")
    page.goto(f"{live_server.url}/campaigns/{campaign_id}/board")
    assert page.get_by_test_id("column-in_review").get_by_test_id("object-card").count() == 1
    screenshot(page, f"object-board-{name}")
    page.get_by_label("Text").fill("no such post")  # the filter swaps the board in place
    page.wait_for_function("() => !document.querySelector('[data-testid=column-in_review] [data-testid=object-card]')")
    assert "q=no" in page.url and "such" in page.url  # pushed: the filtered board has an address
    page.get_by_label("Network").select_option("linkedin")
    page.get_by_label("Text").fill("teaser")
    page.get_by_test_id("column-in_review").get_by_test_id("object-card").wait_for()
    assert page.get_by_test_id("column-scheduled").get_by_test_id("object-card").count() == 0  # no LinkedIn target
    page.get_by_role("navigation", name="Campaign views").get_by_role("link", name="Calendar").click()
    page.get_by_role("link", name="Next month").click()
    page.get_by_text("Ouverture des portes").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"object-calendar-{name}")
    # The picker also lists other tests' files, whose thumbnails live in their own folders.
    ours = {str(asset_id) for asset_id in asset_ids}
    assert [url for url in failed if not _foreign_thumb(url, ours)] == []
    assert [e for e in errors if "status of 404" not in e] == [], errors
    context.close()

    with live_app.app_context():
        obj = db.session.scalar(
            sa.select(ContentObject).where(
                ContentObject.campaign_id == campaign_id, ContentObject.title == "Teaser du salon"
            )
        )
        assert obj.status is ObjectStatus.IN_REVIEW
        media = list(
            db.session.scalars(
                sa.select(MediaAsset.title)
                .join(ObjectMedia)
                .where(ObjectMedia.object_id == obj.id)
                .order_by(ObjectMedia.position)
            )
        )
        assert media == list(reversed(titles))
