"""An editor sees that SharePoint refused a file, presses "Retry storing", and watches the panel
go from processing to ready as the upload resumes. Chromium, the live server, the Graph emulator."""

import re
import uuid

import pytest

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, MediaStatus, Role
from app.tasks.media import process_media, store_media
from tests.conftest import csrf_token
from tests.e2e.conftest import DESKTOP, PASSWORD, log_in
from tests.graph_support import app_config, emulator_settings, graph  # noqa: F401
from tests.media_support import image, upload

pytestmark = pytest.mark.browser


@pytest.fixture
def refused_asset(live_app, graph, monkeypatch, tmp_path):
    """The live app on SharePoint, and an asset whose upload SharePoint refused (403)."""
    for key, value in {**app_config(emulator_settings(graph)), "MEDIA_ROOT": str(tmp_path)}.items():
        monkeypatch.setitem(live_app.config, key, value)
    email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
    with live_app.app_context():
        accounts.create_user(email, "Retrying Editor", Role.EDITOR, PASSWORD)
        db.session.commit()
    client = live_app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    asset_id = upload(client, image("JPEG", size=(90, 70)), "refused.jpg").get_json()["id"]
    graph.emulator.faults.fail_requests(403, count=1)
    with live_app.app_context():
        store_media(asset_id)
        assert db.session.get(MediaAsset, asset_id).status is MediaStatus.FAILED
    yield email, asset_id
    graph.emulator.faults.clear()


def test_retry_storing_from_the_detail_page(browser, live_app, live_server, refused_asset, screenshot):
    email, asset_id = refused_asset
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)

    page.goto(f"{live_server.url}/media/{asset_id}")
    failure = page.get_by_test_id("storage-failure")
    assert re.search(r"The file could not be stored in SharePoint: 403 accessDenied", failure.inner_text())
    screenshot(page, "storage-retry-failed")
    page.get_by_role("button", name="Retry storing").click()
    page.get_by_test_id("retry-message").wait_for()
    assert page.get_by_test_id("asset-status").inner_text() == "Processing"
    assert page.get_by_test_id("storage-failure").count() == 0

    with live_app.app_context():  # what the worker does with the two messages the retry sent
        store_media(asset_id)
        db.session.remove()
        process_media(asset_id)
        db.session.commit()
    page.wait_for_selector("[data-testid=asset-status]:text-is('Ready')", timeout=10_000)  # polled
    screenshot(page, "storage-retry-ready")
    assert errors == []
    context.close()
