"""The library in daily use: tiles above the fold, uploads by button and by dropping on the grid
(finished rows leave the list once their tile is ready, a refused file shows red), facet counts
that follow uploads and bulk tagging, the selection count with "select all" and "clear", a play
mark on videos; and the title, description and alt text edited in place on the asset page, with
and without JavaScript. Chromium, the live server, a real Dramatiq worker."""

import base64
import uuid

import dramatiq
import pytest
from PIL import Image

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, MediaKind, Role
from app.storage import media_root
from tests.e2e.conftest import ARTIFACTS, DESKTOP, PASSWORD, PHONE, log_in
from tests.media_support import image
from tests.objects_support import make_asset

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def library(live_app, tmp_path_factory):
    """An editor, a dozen ready images and a video with their thumbnails, and a worker."""
    previous = live_app.config.get("MEDIA_ROOT")
    live_app.config["MEDIA_ROOT"] = str(tmp_path_factory.mktemp("library"))
    worker = dramatiq.Worker(live_app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    tag = uuid.uuid4().hex[:6]
    with live_app.app_context():
        email = f"librarian-{tag}@example.org"
        accounts.create_user(email, "Léa Bibliothécaire", Role.EDITOR, PASSWORD)
        ids = []
        for n in range(12):
            kind = MediaKind.VIDEO if n == 11 else MediaKind.IMAGE
            asset = make_asset(f"Salon {tag} photo {n}", kind=kind, mime="video/mp4" if n == 11 else "image/jpeg")
            asset.thumb_path = f"derived/{asset.id}/thumb.webp"
            (media_root() / asset.thumb_path).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (256, 256), (20 * n, 90, 200 - 10 * n)).save(media_root() / asset.thumb_path, "WEBP")
            if kind is MediaKind.VIDEO:
                asset.title, asset.duration_s = f"Teaser {tag}", 75
            ids.append(asset.id)
        db.session.commit()
    yield email, tag, ids
    worker.stop()
    live_app.config["MEDIA_ROOT"] = previous


def _login(browser, live_server, email, viewport, **options):
    context = browser.new_context(viewport=viewport, locale="en-GB", **options)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)
    return context, page, errors


def _drop_on(page, selector, name, data, mime):
    page.evaluate(
        """([selector, name, b64, mime]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        const target = document.querySelector(selector);
        target.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        target.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""",
        [selector, name, base64.b64encode(data).decode(), mime],
    )


# The kind facet's count of images, as shown (it follows uploads without a reload).
IMAGES_COUNTED = """(n) => { const chip = [...document.querySelectorAll('[data-facet=kind] .facet-chip')]
    .find(c => c.textContent.includes('Image'));
    return chip && +chip.querySelector('.facet-count').textContent === n; }"""


def _kind_count(page, label):
    chip = page.locator("[data-facet=kind] .facet-chip", has_text=label)
    return int(chip.locator(".facet-count").inner_text()) if chip.count() else 0


def test_library_daily_use_on_a_desktop(browser, live_server, library, screenshot, tmp_path):
    email, tag, ids = library
    context, page, errors = _login(browser, live_server, email, DESKTOP)
    page.goto(live_server.url + "/media/")
    page.wait_for_function("() => [...document.querySelectorAll('#media-grid img')].slice(0, 5).every(i => i.complete)")
    page.screenshot(path=str(ARTIFACTS / "library-desktop-fold.png"))  # the first screen only
    # A whole row of tiles shows before any scrolling.
    first = page.locator("#media-grid .media-tile").first.bounding_box()
    assert first["y"] + first["height"] <= DESKTOP["height"], first
    row = page.evaluate("""() => { const tiles = [...document.querySelectorAll('#media-grid .media-tile')];
        return tiles.filter(t => t.offsetTop === tiles[0].offsetTop).length; }""")
    assert row >= 4
    # The video's tile has a play mark and its length.
    video = page.locator(".media-tile", has_text=f"Teaser {tag}")
    assert video.locator("[data-testid=play-mark]").is_visible() and "1:15" in video.inner_text()
    screenshot(page, "library-desktop")

    images = _kind_count(page, "Image")
    good = tmp_path / "Salon_2026-affiche.png"
    good.write_bytes(image("PNG", size=(500, 400), color=(30, 90, 200)))
    refused = tmp_path / "notes.txt"
    refused.write_text("Pas une image")
    page.set_input_files("#upload-input", [str(good), str(refused)])
    error_row = page.locator(".upload-row.upload-error", has_text="notes.txt")
    error_row.wait_for(timeout=10_000)
    # Red, not a full blue bar like a success: the row and its bar take the danger colour.
    colours = page.evaluate("""() => { const row = document.querySelector('.upload-row.upload-error');
        return [getComputedStyle(row).borderLeftColor, getComputedStyle(row.querySelector('progress')).accentColor]; }""")
    assert colours == ["rgb(180, 35, 24)", "rgb(180, 35, 24)"], colours
    screenshot(page, "library-upload-refused-desktop")
    # The good file's row leaves the list once its tile is ready; the refusal stays until closed.
    page.locator(".media-tile", has_text="Salon 2026 affiche").wait_for(timeout=10_000)
    page.wait_for_function(
        """() => document.querySelectorAll('.upload-row').length === 1
        && document.querySelector('#media-grid .media-tile .media-card.status-ready')""",
        timeout=30_000,
    )
    assert "previews are being made" not in page.locator("#upload-panel").inner_text()
    assert page.locator(".media-card", has_text="Salon 2026 affiche").get_attribute("class").count("status-ready")
    page.wait_for_function(IMAGES_COUNTED, arg=images + 1, timeout=10_000)
    error_row.get_by_role("button", name="Close").click()
    assert page.locator(".upload-row").count() == 0

    # A file dropped anywhere on the grid is uploaded too, and counted.
    _drop_on(
        page, "#media-grid", "dropped_on_grid.png", image("PNG", size=(300, 300), color=(200, 60, 20)), "image/png"
    )
    page.locator(".media-tile", has_text="dropped on grid").wait_for(timeout=10_000)
    page.wait_for_function(IMAGES_COUNTED, arg=images + 2, timeout=10_000)
    page.wait_for_function("() => !document.querySelector('.upload-row')", timeout=30_000)

    # The selection: counted, "select all" on the page, "clear".
    bar = page.locator("#bulk-form")
    assert not bar.is_visible()
    page.get_by_role("checkbox", name=f"Select “Salon {tag} photo 1”", exact=True).check()
    assert bar.locator("[data-testid=selected-count]").inner_text() == "1 file selected"
    bar.get_by_role("button", name="Select all").click()
    shown = page.locator("#media-grid .tile-select").count()
    assert page.locator(".tile-select:checked").count() == shown
    assert bar.locator("[data-testid=selected-count]").inner_text() == f"{shown} files selected"
    bar.get_by_role("button", name="Clear the selection").click()
    assert page.locator(".tile-select:checked").count() == 0 and not bar.is_visible()
    for n in (2, 3):
        page.get_by_role("checkbox", name=f"Select “Salon {tag} photo {n}”", exact=True).check()
    assert bar.locator("[data-testid=selected-count]").inner_text() == "2 files selected"
    screenshot(page, "library-selection-desktop")
    page.locator("#bulk-tag").fill(f"Stand {tag}")
    page.get_by_role("button", name="Add tag").click()
    page.wait_for_selector("#bulk-result:has-text('added to 2 files')")
    # The tag facet counts the two files without a reload.
    chip = page.locator("[data-facet=tags] .facet-chip", has_text=f"Stand {tag}")
    chip.wait_for(timeout=10_000)
    assert chip.locator(".facet-count").inner_text() == "2"
    # The refused upload is the only failed request (Chromium logs it as a console error).
    assert [e for e in errors if "status of 415" not in e] == [], errors
    context.close()


def test_library_on_a_phone(browser, live_server, library, screenshot):
    email, tag, _ = library
    context, page, errors = _login(browser, live_server, email, PHONE, is_mobile=True, has_touch=True)
    page.goto(live_server.url + "/media/")
    page.wait_for_selector("#media-grid .media-card img")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_text("Add files").is_visible()
    first = page.locator("#media-grid .media-tile").first.bounding_box()
    assert first["y"] < PHONE["height"], first  # the files start on the first screen
    assert page.locator(".media-tile", has_text=f"Teaser {tag}").locator("[data-testid=play-mark]").is_visible()
    screenshot(page, "library-phone")
    assert errors == [], errors
    context.close()


def test_asset_words_are_edited_in_place(browser, live_server, live_app, library, screenshot):
    email, tag, ids = library
    asset_id = ids[0]
    context, page, errors = _login(browser, live_server, email, DESKTOP)
    page.goto(f"{live_server.url}/media/{asset_id}")
    title = page.locator("#meta-title")
    title.fill(f"Affiche officielle {tag}")
    title.press("Tab")  # leaving the field saves it
    page.locator("#field-title [data-testid=saved]").wait_for()
    assert page.locator("h1").inner_text() == f"Affiche officielle {tag}"
    page.locator("#meta-alt_text").fill("Une affiche bleue, le logo du salon en haut à gauche.")
    page.locator("#field-alt_text").get_by_role("button", name="Save").click()
    page.locator("#field-alt_text [data-testid=saved]").wait_for()
    # A refusal comes back in place, with what was typed, and the other fields keep theirs.
    page.locator("#meta-description").fill("Photographe : Studio Nord")
    title.fill("   ")
    page.locator("#field-title").get_by_role("button", name="Save").click()
    page.locator("#field-title .field-error").wait_for()
    assert page.locator("#field-title .field-error").inner_text() == "The title cannot be empty."
    assert page.locator("#meta-description").input_value() == "Photographe : Studio Nord"
    screenshot(page, "asset-fields-error-desktop")
    page.reload()
    assert page.locator("#meta-title").input_value() == f"Affiche officielle {tag}"
    assert page.locator("#meta-alt_text").input_value() == "Une affiche bleue, le logo du salon en haut à gauche."
    assert [e for e in errors if "status of 422" not in e] == [], errors  # the refusal is the only failed request
    context.close()

    # Without JavaScript: the Save button posts the form; a refusal is the page again, 422.
    context, page, _ = _login(browser, live_server, email, PHONE, java_script_enabled=False)
    page.goto(f"{live_server.url}/media/{asset_id}")
    page.locator("#meta-description").fill("Salon 2026, stand B")
    page.locator("#field-description").get_by_role("button", name="Save").click()
    assert page.url == f"{live_server.url}/media/{asset_id}"
    assert page.locator("[data-testid=flash]").inner_text() == "Saved."
    page.locator("#meta-title").fill("")
    with page.expect_response(lambda r: r.url.endswith("/fields/title")) as answer:
        page.locator("#field-title").get_by_role("button", name="Save").click()
    assert answer.value.status == 422
    assert page.locator("#field-title .field-error").inner_text() == "The title cannot be empty."
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "asset-fields-phone-no-js")
    context.close()
    with live_app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        assert (asset.title, asset.description) == (f"Affiche officielle {tag}", "Salon 2026, stand B")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_images_without_alt_text_keep_a_post_from_review(browser, live_server, live_app, library, screenshot, viewport):
    from app.models import ContentObject, Platform
    from tests.objects_support import make_objects, seed_campaign

    email, tag, ids = library
    with live_app.app_context():
        seed = seed_campaign(platforms=(Platform.LINKEDIN,), extra_statuses=(), media=0)
        described = db.session.get(MediaAsset, ids[5])
        described.alt_text = "Le stand vu de l'allée centrale"
        [object_id] = make_objects(seed.campaign_id, [seed.scenarios["linkedin"]], [ids[4], ids[5]], 1)
        db.session.commit()
    live_app.config["MEDIA_ALT_TEXT_REQUIRED"] = True
    try:
        context, page, errors = _login(browser, live_server, email, viewport)
        url = f"{live_server.url}/campaigns/{seed.campaign_id}/objects/{object_id}"
        page.goto(url)
        page.get_by_test_id("submit-object").click()
        page.wait_for_url(url)
        problems = page.get_by_test_id("problems").inner_text()
        assert f"“Salon {tag} photo 4” has no alt text" in problems and "photo 5”" not in problems
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"post-alt-text-missing-{'phone' if viewport is PHONE else 'desktop'}")
        with live_app.app_context():
            assert db.session.get(ContentObject, object_id).status.value == "draft"
        assert errors == [], errors
        context.close()
    finally:
        live_app.config["MEDIA_ALT_TEXT_REQUIRED"] = False
