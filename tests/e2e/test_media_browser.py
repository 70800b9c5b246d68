"""An editor uploads three files (chooser and drag and drop), watches the progress bars and the
thumbnails appear as the worker processes them, tags two in one action and finds them by tag;
then the pages at phone width. Chromium, the live server, a real Dramatiq worker."""

import base64
import uuid

import dramatiq
import pytest

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, MediaKind, Role
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in
from tests.media_support import image, noisy_jpeg, video

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def media_stack(live_app, tmp_path_factory):
    """Files under a folder of this module, and a worker consuming the live app's broker."""
    previous = live_app.config.get("MEDIA_ROOT")
    live_app.config["MEDIA_ROOT"] = str(tmp_path_factory.mktemp("media"))
    broker = live_app.extensions["dramatiq"]  # each app sends through its own broker's actors
    worker = dramatiq.Worker(broker, worker_threads=2)
    worker.start()
    with live_app.app_context():
        email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Browser Editor", Role.EDITOR, PASSWORD)
        db.session.commit()
    yield email
    worker.stop()
    live_app.config["MEDIA_ROOT"] = previous


def _login(browser, live_server, email, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)
    return context, page, errors


def _drop(page, name, data, mime):
    page.evaluate(
        """([name, b64, mime]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        document.querySelector("[data-dropzone]").dispatchEvent(
            new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""",
        [name, base64.b64encode(data).decode(), mime],
    )


def test_upload_watch_tag_and_filter(browser, live_server, media_stack, screenshot, tmp_path):
    context, page, errors = _login(browser, live_server, media_stack, DESKTOP)
    page.goto(live_server.url + "/media/")
    assert "No media yet" in page.content()
    photo, poster = tmp_path / "Été photo.jpg", tmp_path / "poster.png"
    photo.write_bytes(noisy_jpeg((1600, 1200)))
    poster.write_bytes(image("PNG", size=(600, 400), color=(30, 90, 200)))
    cdp = context.new_cdp_session(page)  # a slow uplink, so the progress can be seen
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024},
    )
    page.set_input_files("#upload-input", [str(photo), str(poster)])
    page.wait_for_function(
        """() => [...document.querySelectorAll('.upload-row progress')]
        .some(p => p.value > 0 && p.value < p.max)""",
        timeout=10_000,
    )
    screenshot(page, "media-upload-progress-desktop")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    _drop(page, "clip.mp4", video(size=(320, 240), frames=40), "video/mp4")
    page.wait_for_function("() => document.querySelectorAll('#media-grid .media-tile').length === 3", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#media-grid .media-card img').length === 3", timeout=30_000
    )
    assert page.locator("#media-grid [data-testid=status]").all_inner_texts() == ["Ready"] * 3
    # Each upload's row left the list once its tile was ready.
    page.wait_for_function("() => !document.querySelector('.upload-row')", timeout=10_000)
    screenshot(page, "media-library-thumbnails-desktop")

    for title in ("Été photo", "poster"):
        page.locator(".media-tile", has_text=title).locator(".tile-select").check()
    page.locator("#bulk-tag").fill("Été 2026")
    page.get_by_role("button", name="Add tag").click()
    page.wait_for_selector("#bulk-result:has-text('added to 2 files')")
    assert page.locator(".media-tile .chip", has_text="Été 2026").count() == 2

    page.locator("#filter-tag").fill("été 2026")
    page.locator("#filter-tag").press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#media-grid .media-tile').length === 2")
    assert sorted(page.locator("#media-grid .media-title").all_inner_texts()) == ["poster", "Été photo"]
    assert "tag=" in page.url
    screenshot(page, "media-library-filtered-desktop")
    assert errors == [], errors
    context.close()

    context, page, errors = _login(browser, live_server, media_stack, PHONE)
    for path, name in (
        ("/media/?tag=%C3%A9t%C3%A9+2026", "media-library-filtered-phone"),
        ("/media/", "media-library-phone"),
    ):
        page.goto(live_server.url + path)
        page.wait_for_selector("#media-grid .media-card img")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        # Every shown box keeps its fields inside (the bulk bar waits, hidden, for a selection).
        assert page.evaluate("""() => [...document.querySelectorAll('.card, .bulk-bar')]
            .filter(box => box.getClientRects().length).every(box => {
            const edge = box.getBoundingClientRect().right - parseFloat(getComputedStyle(box).paddingRight);
            return [...box.querySelectorAll('input:not([type=hidden]), select, button')]
                .every(field => field.getBoundingClientRect().right <= edge + 1);
        })""")  # no field sticks out of its box
        screenshot(page, name)
    page.locator(".media-card", has_text="clip").click()
    page.wait_for_selector("video[poster]")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "media-detail-video-phone")
    assert errors == [], errors
    context.close()


def test_the_picker_chooses_files_in_order(browser, live_server, live_app, media_stack, screenshot):
    with live_app.app_context():
        ids = {}
        for title, kind in (
            ("Picker photo", MediaKind.IMAGE),
            ("Picker film", MediaKind.VIDEO),
            ("Picker flyer", MediaKind.DOCUMENT),
        ):
            asset = MediaAsset(
                title=title,
                filename=title + ".bin",
                mime="application/octet-stream",
                kind=kind,
                size_bytes=1,
                sha256=uuid.uuid4().hex * 2,
                storage_backend="local",
                status="ready",
            )
            db.session.add(asset)
            db.session.flush()
            ids[title] = asset.id
        db.session.commit()
    context, page, errors = _login(browser, live_server, media_stack, PHONE)
    page.goto(live_server.url + "/media/picker?field=media_ids")
    for title in ("Picker photo", "Picker flyer"):
        page.get_by_role("button", name=f"Add “{title}”").click()
        page.wait_for_selector(f"#picker-media_ids-selection li[data-asset-id='{ids[title]}']")
    page.get_by_role("button", name="Move “Picker flyer” up").click()
    page.wait_for_function(
        """([first]) => document.querySelector('#picker-media_ids-selection li')
        .dataset.assetId === String(first)""",
        arg=[ids["Picker flyer"]],
    )
    page.locator("select[name=picker_kind]").select_option("video")
    page.wait_for_function(
        "() => !document.querySelector('#picker-media_ids-results').textContent.includes('Picker photo')"
    )
    shown = page.locator("#picker-media_ids-results .media-title").all_inner_texts()
    assert "Picker film" in shown and "Picker flyer" not in shown  # videos only
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "media-picker-phone")
    page.get_by_role("button", name="Use these files").click()
    page.wait_for_selector("[data-testid=picker-sends]")
    sent = page.get_by_test_id("picker-sends").inner_text()
    assert sent.endswith(f"media_ids={ids['Picker flyer']}&media_ids={ids['Picker photo']}")
    assert errors == [], errors
    context.close()
