"""An editor on a phone (and at a desk) sets the focal point of a wide photo by tapping it and
nudges it with the keyboard; the post in review that uses it shows its Instagram rendition
being prepared, then (made by the renditions' own code, as the actor does) at Instagram's
proportions in the preview, cropped around the point (issue 11)."""

import io
import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth import service as accounts
from app.extensions import db
from app.models import ContentObject, MediaAsset, MediaStatus, ObjectStatus, Platform, Rendition, Role
from tests.e2e.conftest import DESKTOP, PHONE, PASSWORD, log_in
from tests.media_support import wide_photo
from tests.objects_support import make_objects, seed_campaign

pytestmark = pytest.mark.browser


@pytest.fixture
def post(live_app):
    from app.media import processing, uploads

    with live_app.app_context():
        email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
        editor = accounts.create_user(email, "Eliott", Role.EDITOR, PASSWORD)
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
        data = wide_photo()
        asset, _ = uploads.add_asset(uploads.receive(io.BytesIO(data), "salon-large.jpg", len(data)), editor)
        db.session.commit()
        processing.process(asset.id)
        db.session.commit()
        asset = db.session.get(MediaAsset, asset.id)
        assert asset.status is MediaStatus.READY, asset.failure_reason
        [object_id] = make_objects(
            seed.campaign_id, list(seed.scenarios.values()), [asset.id], 1, statuses=(ObjectStatus.IN_REVIEW,)
        )
        db.session.get(ContentObject, object_id).title = "Salon en grand"
        db.session.commit()
        return email, asset.id, f"/campaigns/{seed.campaign_id}/objects/{object_id}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_set_a_focal_point_and_see_the_rendition_in_the_preview(
    browser, live_app, live_server, post, screenshot, viewport
):
    from app.renditions import service

    email, asset_id, post_url = post
    base, size = live_server.url, "phone" if viewport is PHONE else "desktop"
    context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=True, is_mobile=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        log_in(page, base, email)
        page.goto(f"{base}/media/{asset_id}")
        picture = page.get_by_test_id("focal-picture")
        picture.scroll_into_view_if_needed()
        box = picture.locator("img").bounding_box()
        # A tap (or click) on the red subject: 90 % across, half-way down.
        position = {"x": box["width"] * 0.9, "y": box["height"] * 0.5}
        if viewport is PHONE:
            picture.locator("img").tap(position=position)
        else:
            picture.locator("img").click(position=position)
        page.get_by_test_id("focal-saved").wait_for()
        assert abs(float(page.locator("input[name=x]").input_value()) - 90) < 1
        # The keyboard: one step to the left (5 %), Enter saves; the focus comes back to the picture.
        page.wait_for_load_state("networkidle")  # the saved box has replaced the old one
        page.get_by_test_id("focal-picture").focus()
        expect(page.get_by_test_id("focal-picture")).to_be_focused()
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Enter")
        # The server's new box names the saved point; focal.js then shows its mark and refocuses.
        expect(page.get_by_test_id("focal-picture")).to_have_attribute("aria-label", re.compile(r" 8[45]\.\d % across"))
        page.locator("[data-focal-mark]").wait_for(state="visible")
        expect(page.get_by_test_id("focal-picture")).to_be_focused()
        mark = page.locator("[data-focal-mark]").bounding_box()
        image = page.get_by_test_id("focal-picture").locator("img").bounding_box()
        assert abs((mark["x"] + mark["width"] / 2 - image["x"]) / image["width"] - 0.85) < 0.02
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"renditions-focal-{size}")

        # The post: its Instagram rendition around the point is queued, not made yet.
        page.goto(base + post_url)
        preview = page.get_by_test_id("preview-instagram")
        assert preview.get_by_test_id("being-prepared").inner_text() == "Being prepared"
        box = page.get_by_test_id("renditions-instagram")
        assert box.get_attribute("hx-trigger") == "every 2s"
        assert "resized to 1440 px wide" in box.get_by_test_id("adapted").inner_text()
        with live_app.app_context():
            crop = service.crop_key(db.session.get(MediaAsset, asset_id))
            assert re.fullmatch(r"focal-0\.8[45]\d-0\.[45]\d\d", crop), crop
            pending = db.session.scalar(
                sa.select(Rendition).where(Rendition.asset_id == asset_id, Rendition.crop == crop)
            )
            assert pending is not None, "saving the focal point queues the post's rendition around it"
            assert service.make(pending.id) == "ready"
        # The box was polling: it turns ready on its own and stops.
        page.locator("[data-testid=renditions-instagram] [data-state=ready]").wait_for(timeout=10_000)
        assert "cropped to 1440×754" in page.get_by_test_id("rendition-note").inner_text()
        page.reload()
        shown = page.get_by_test_id("preview-instagram").get_by_test_id("rendition-image")
        shown.scroll_into_view_if_needed()
        natural = shown.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
        drawn = shown.bounding_box()
        assert natural == [1440, 754]
        assert abs(drawn["width"] / drawn["height"] - 1440 / 754) < 0.03  # the network's proportions
        # Cropped around the point: the red subject is in the picture's right part.
        red = shown.evaluate("""img => { const c = document.createElement('canvas'); c.width = img.naturalWidth;
            c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            return Array.from(g.getImageData(Math.round(img.naturalWidth * 0.85), 377, 1, 1).data); }""")
        assert red[0] > 150 and red[2] < 120, red
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"renditions-preview-{size}")
        assert errors == []
    finally:
        context.close()
