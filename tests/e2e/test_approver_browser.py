"""An approver on a phone (and at a desk) goes from the review queue to the post's campaign, then
to the poster it uses: both pages read-only, no draft, nothing wider than the screen."""

import uuid

import pytest
from app.auth import service as accounts
from app.extensions import db
from app.models import ContentObject, ObjectStatus, Platform, Role
from tests.e2e.conftest import DESKTOP, PHONE
from tests.objects_support import make_asset, make_objects, seed_campaign, with_previews

pytestmark = pytest.mark.browser


@pytest.fixture
def submitted(live_app):
    with live_app.app_context():
        email = f"approver-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Agathe", Role.APPROVER, "browser test password")
        seed = seed_campaign(platforms=(Platform.LINKEDIN,), extra_statuses=(), media=0)
        poster = with_previews(make_asset(f"Affiche du salon {uuid.uuid4().hex[:4]}", size=(1080, 1350)))
        poster.alt_text = "Affiche bleue du salon, stand B"
        [in_review] = make_objects(
            seed.campaign_id, list(seed.scenarios.values()), [poster.id], 1, statuses=(ObjectStatus.IN_REVIEW,)
        )
        [draft] = make_objects(seed.campaign_id, list(seed.scenarios.values()), [], 1, statuses=(ObjectStatus.DRAFT,))
        db.session.get(ContentObject, in_review).title = "Teaser du salon"
        db.session.get(ContentObject, draft).title = "Brouillon caché"
        db.session.commit()
        return (
            email,
            seed.campaign_id,
            {ObjectStatus.IN_REVIEW: in_review, ObjectStatus.DRAFT: draft},
            poster.id,
            poster.title,
        )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_from_the_queue_to_the_campaign_and_its_poster(browser, live_server, submitted, screenshot, viewport):
    email, campaign_id, posts, asset_id, asset_title = submitted
    base, size = live_server.url, "phone" if viewport is PHONE else "desktop"
    context = browser.new_context(viewport=viewport, locale="fr-FR", has_touch=True, is_mobile=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(base + "/login")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill("browser test password")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(base + "/reviews/", timeout=10_000)

        # The queue card names its campaign as a link.
        card = page.locator(f"#review-{posts[ObjectStatus.IN_REVIEW]}")
        card.get_by_test_id("review-campaign").click()
        page.wait_for_url(f"{base}/campaigns/{campaign_id}", timeout=10_000)
        page.get_by_test_id("campaign-posts").wait_for()
        screenshot(page, f"approver-campaign-{size}")
        assert page.get_by_role("heading", level=1).inner_text() == "Salon 2026"
        assert "LinkedIn · linkedin ready" in page.get_by_test_id("campaign-targets").inner_text()
        posts_text = page.get_by_test_id("campaign-posts").inner_text()
        assert "Teaser du salon" in posts_text and "Brouillon caché" not in posts_text
        assert page.get_by_role("link", name="Modifier").count() == 0
        assert page.get_by_role("button", name="Archiver").count() == 0
        assert page.get_by_text("Scénarios Make").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        # The poster: its page, read-only, with its preview.
        page.get_by_test_id("asset-link").first.click()
        page.wait_for_url(f"{base}/media/{asset_id}", timeout=10_000)
        page.wait_for_function(
            "() => { const i = document.querySelector('.asset-preview img');"
            " return i && i.complete && i.naturalWidth > 0 }",
            timeout=5_000,
        )
        screenshot(page, f"approver-asset-{size}")
        assert page.locator("#asset-title").inner_text() == asset_title
        assert "Affiche bleue du salon, stand B" in page.locator("#asset-metadata").inner_text()
        assert page.locator("#asset-metadata textarea, #asset-metadata input").count() == 0
        assert page.get_by_text("Remplacer le fichier").count() == 0 and page.get_by_text("Lien public").count() == 0
        assert page.get_by_role("link", name="Médiathèque").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        # A draft's page and the library stay closed.
        assert page.goto(f"{base}/reviews/objects/{posts[ObjectStatus.DRAFT]}/history").status == 404
        assert page.goto(base + "/media/").status == 403
        assert errors == [] or all("404" in e or "403" in e for e in errors), errors
    finally:
        context.close()
