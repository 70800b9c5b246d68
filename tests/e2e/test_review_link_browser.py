"""An outside reviewer on a phone (390x844): the editor creates a review link from the post page,
the person without an account opens it, sees the post, its image (through a signed media link) and
its per-network previews, approves under their own name, takes the approval back with the undo
bar and approves again; the same link then says it was used."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, log_in
from tests.e2e.daily_seed import no_sideways_scroll, remove, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(live_app):
    world = seed(live_app)
    _store_poster(live_app, world.assets[0])
    yield world
    remove(live_app, world)


def _store_poster(app, asset_id):
    """The seed's poster as an uploaded file really is: its bytes in the storage backend, which
    the signed media links serve."""
    import uuid

    from app.extensions import db
    from app.models import MediaAsset
    from app.storage import get_storage, media_root
    from tests.media_support import image

    with app.app_context():
        source = media_root() / "tmp" / f"poster-{uuid.uuid4().hex}"
        source.parent.mkdir(parents=True, exist_ok=True)
        data = image("JPEG", size=(540, 675), color=(31, 95, 191))
        source.write_bytes(data)
        stored = get_storage().put(source, name="affiche.jpg")
        asset = db.session.get(MediaAsset, asset_id)
        asset.storage_item_id, asset.storage_version, asset.mime = stored.ref, stored.id, "image/jpeg"
        asset.size_bytes = len(data)
        db.session.commit()


def _create_link(browser, live_server, world, screenshot) -> str:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    log_in(page, live_server.url, world.editor)
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}/objects/{world.posts['Plan d’accès']}")
    block = page.get_by_test_id("review-links")
    block.get_by_label("Reviewer's name").fill("Claire Juriste")
    block.get_by_label("Reviewer's e-mail").fill("claire@client.example")
    block.get_by_test_id("review-link-create").click()
    url = page.get_by_test_id("review-link-url").input_value()
    assert page.get_by_test_id("review-link-row").get_attribute("data-state") == "active"
    block.scroll_into_view_if_needed()
    screenshot(page, "review-link-created-desktop")
    context.close()
    return url


def test_an_outside_reviewer_approves_from_a_phone(browser, live_server, world, screenshot):
    url = _create_link(browser, live_server, world, screenshot)
    assert url.startswith(live_server.url + "/r/")
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url)
    assert page.get_by_test_id("review-link-page").is_visible()
    assert page.get_by_role("navigation").count() == 0 and page.locator("a[href^='/campaigns']").count() == 0
    image = page.get_by_test_id("review-link-media").locator("img")
    assert image.get_attribute("src").startswith("/m/")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.get_by_test_id("preview-facebook").is_visible()
    assert page.get_by_label("Your name").input_value() == "Claire Juriste"
    width, inner = no_sideways_scroll(page)
    assert width <= inner, (width, inner)
    screenshot(page, "review-link-phone")
    page.get_by_label("Your name").fill("Claire Juriste (service juridique)")
    page.get_by_test_id("review-link-approve").click()
    page.wait_for_selector("[data-testid=review-link-refused][data-reason=done]")
    assert "Your approval has been recorded" in page.content()
    # The same undo bar as an approver's, counting down (APPROVAL_UNDO_S, 30 s by default).
    bar = page.get_by_test_id("undo-bar")
    expect(bar).to_be_visible()
    seconds = bar.locator("[data-undo-seconds]")
    first = int(seconds.inner_text())
    expect(seconds).not_to_have_text(str(first), timeout=3_000)  # undo.js counts down
    assert 0 < int(seconds.inner_text()) < first <= 30
    width, inner = no_sideways_scroll(page)
    assert width <= inner, (width, inner)
    screenshot(page, "review-link-phone-approved")
    # A mistaken tap taken back: the post and the decision form again, with a notice.
    bar.get_by_role("button", name="Undo").tap()
    expect(page.get_by_test_id("review-link-undone")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Claire Juriste (service juridique)")
    screenshot(page, "review-link-phone-undone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "review-link-undone-desktop")
    page.set_viewport_size(PHONE)
    page.get_by_test_id("review-link-approve").click()
    page.wait_for_selector("[data-testid=review-link-refused][data-reason=done]")
    assert errors == [], errors
    context.close()

    later = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True)
    again = later.new_page()
    response = again.goto(url)
    assert response.status == 410
    assert again.get_by_role("heading").inner_text() == "Ce lien de relecture a déjà été utilisé"
    later.close()
