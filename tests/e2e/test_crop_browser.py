"""An editor on a phone moves the crop of a wide photo for Instagram only, with the keyboard, on
the post page; the box shows the rendition being made around it, then (made by the renditions'
own code, as the actor does) the picture Instagram gets, with the subject in it (issue 11, point 2)."""

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
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        data = wide_photo()
        asset, _ = uploads.add_asset(uploads.receive(io.BytesIO(data), "panorama.jpg", len(data)), editor)
        db.session.commit()
        processing.process(asset.id)
        db.session.commit()
        asset = db.session.get(MediaAsset, asset.id)
        assert asset.status is MediaStatus.READY, asset.failure_reason
        [object_id] = make_objects(
            seed.campaign_id, list(seed.scenarios.values()), [asset.id], 1, statuses=(ObjectStatus.IN_REVIEW,)
        )
        db.session.get(ContentObject, object_id).title = "Panorama du salon"
        db.session.commit()
        return email, asset.id, f"/campaigns/{seed.campaign_id}/objects/{object_id}"


def test_move_the_instagram_crop_with_the_keyboard_on_a_phone(browser, live_app, live_server, post, screenshot):
    from app.renditions import service

    email, asset_id, post_url = post
    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        log_in(page, base, email)
        page.goto(base + post_url)
        box = page.get_by_test_id("renditions-instagram")
        assert page.get_by_test_id("renditions-x").get_by_test_id("crop-picture").count() == 0  # X takes it whole
        picture = box.get_by_test_id("crop-picture")
        picture.scroll_into_view_if_needed()
        frame = box.locator("[data-crop-frame]")
        frame.wait_for(state="visible")
        centred = frame.bounding_box()
        # The keyboard: eight steps to the right (5 % each), the frame follows; Enter saves.
        picture.focus()
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        assert box.locator("input[name=x]").input_value() == "90"
        moved = frame.bounding_box()
        image = picture.locator("img").bounding_box()
        assert moved["x"] > centred["x"] and abs(moved["x"] + moved["width"] - image["x"] - image["width"]) < 2
        page.keyboard.press("Enter")
        saved = page.locator("[data-testid=renditions-instagram] [data-crop='focal-0.900-0.500']")
        saved.wait_for()
        expect(page.get_by_test_id("crop-saved")).to_contain_text("Crop saved")
        expect(box.get_by_test_id("crop-picture")).to_be_focused()  # back where the editor was
        expect(box.get_by_test_id("crop-picture")).to_have_attribute(
            "aria-label", re.compile(r"centred 90\.0 % across")
        )
        assert box.get_attribute("hx-trigger") == "every 2s"  # the rendition around it is being made
        screenshot(page, "crop-moved-phone")
        with live_app.app_context():
            pending = db.session.scalar(
                sa.select(Rendition).where(Rendition.asset_id == asset_id, Rendition.crop == "focal-0.900-0.500")
            )
            assert pending is not None and pending.profile == service.profile(Platform.INSTAGRAM)
            assert service.make(pending.id) == "ready"
            assert service.crop_key(db.session.get(MediaAsset, asset_id)) == "auto"  # the file's own point stays
        # The box was polling: the picture Instagram gets appears, cropped around the point.
        result = box.get_by_test_id("crop-result")
        result.wait_for(timeout=10_000)
        result.scroll_into_view_if_needed()
        natural = result.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
        assert natural == [1440, 754]
        red = result.evaluate("""img => { const c = document.createElement('canvas'); c.width = img.naturalWidth;
            c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            return Array.from(g.getImageData(Math.round(img.naturalWidth * 0.87), 377, 1, 1).data); }""")
        assert red[0] > 150 and red[2] < 120, red
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "crop-result-phone")
        page.set_viewport_size(DESKTOP)
        box.scroll_into_view_if_needed()
        screenshot(page, "crop-result-desktop")
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        assert errors == []
    finally:
        context.close()
