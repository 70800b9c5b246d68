"""An approver on a phone approves one post and sends another back with a comment."""

import uuid

import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Approval,
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectMedia,
    ObjectStatus,
    Platform,
    Publication,
    Role,
    SocialAccount,
    object_targets,
)
from tests.objects_support import make_asset, with_previews
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


@pytest.fixture
def two_posts(live_app):
    with live_app.app_context():
        email = f"approver-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Agathe", Role.APPROVER, "browser test password")
        campaign = Campaign(name=f"Salon {uuid.uuid4().hex[:4]}")
        db.session.add(campaign)
        db.session.flush()
        account = SocialAccount(
            platform=Platform.INSTAGRAM,
            label="Marque FR",
            make_connection_id=77,
            account_identifier=str(uuid.uuid4().int % 10**15),
        )
        db.session.add(account)
        db.session.flush()
        scenario = CampaignScenario(campaign_id=campaign.id, social_account_id=account.id, status="ready")
        db.session.add(scenario)
        db.session.flush()
        ids = []
        for title, message in (
            ("Teaser du salon", "Rendez-vous au salon le 12 mars ! #salon2026"),
            ("Affiche provisoire", "Visuel à valider"),
        ):
            obj = ContentObject(
                campaign_id=campaign.id,
                title=title,
                message=message,
                link="https://example.org/salon",
                status=ObjectStatus.IN_REVIEW,
            )
            db.session.add(obj)
            db.session.flush()
            db.session.execute(object_targets.insert().values(object_id=obj.id, campaign_scenario_id=scenario.id))
            ids.append(obj.id)
        # The teaser carries a poster with its derived thumbnail and preview, as processing makes them.
        poster = with_previews(make_asset("Affiche du salon", size=(1080, 1350)))
        db.session.add(ObjectMedia(object_id=ids[0], media_asset_id=poster.id, position=0))
        db.session.commit()
        return email, ids


def _log_in_as_approver(browser, live_server, email, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR", has_touch=True, is_mobile=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("browser test password")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url + "/reviews/", timeout=10_000)
    return context, page, errors


def test_approver_decides_on_a_phone(browser, live_server, live_app, two_posts, screenshot):
    email, (approve_id, changes_id) = two_posts
    context, page, errors = _log_in_as_approver(browser, live_server, email, PHONE)
    screenshot(page, "review-queue-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The poster is shown as a thumbnail; a tap opens it full screen, "Fermer" closes it.
    thumb = page.locator(f"#review-{approve_id}").get_by_test_id("media-thumb")
    assert thumb.locator("img").evaluate("img => img.complete && img.naturalWidth") == 256
    thumb.tap()
    viewer = page.locator("dialog.media-viewer")
    viewer.wait_for(timeout=5_000)
    page.wait_for_function("() => document.querySelector('dialog.media-viewer img').complete", timeout=5_000)
    shown = viewer.locator("img").bounding_box()
    assert shown["width"] >= PHONE["width"] - 1 and viewer.locator("img").evaluate("i => i.naturalWidth") == 864
    screenshot(page, "review-media-fullscreen-phone")
    viewer.get_by_role("button", name="Fermer").tap()
    viewer.wait_for(state="detached", timeout=5_000)

    # The per-network previews load into the card when the approver opens them.
    first = page.locator(f"#review-{approve_id}")
    first.get_by_text("Aperçu par réseau").tap()
    first.get_by_test_id("preview-instagram").wait_for(timeout=5_000)
    assert "Convient à ce réseau" in first.get_by_test_id("preview-instagram").inner_text()
    screenshot(page, "review-previews-phone")

    approve_button = first.get_by_role("button", name="Approuver")
    box = approve_button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a large target for a thumb
    approve_button.tap()
    page.locator(f"#review-{approve_id}[data-testid=review-decided]").wait_for(timeout=10_000)

    second = page.locator(f"#review-{changes_id}")
    second.get_by_text("Demander des modifications").tap()
    second.get_by_role("button", name="Renvoyer à l’éditeur").tap()  # no comment: refused
    second.get_by_text("Dites ce qui doit changer").wait_for(timeout=10_000)
    page.locator(f"#review-{changes_id}").get_by_label("Que faut-il changer ?").fill(
        "Le visuel est flou, merci de le remplacer."
    )
    screenshot(page, "review-changes-phone")
    page.locator(f"#review-{changes_id}").get_by_role("button", name="Renvoyer à l’éditeur").tap()
    page.locator(f"#review-{changes_id}[data-testid=review-decided]").wait_for(timeout=10_000)
    screenshot(page, "review-decided-phone")
    # The refused empty comment answers 422 on purpose (the card is re-rendered with the error);
    # 404s are thumbnails of posts left in review by other browser tests whose files are gone
    # (this test's own poster is checked above).
    assert [e for e in errors if "status of 422" not in e and "status of 404" not in e] == [], errors
    context.close()

    with live_app.app_context():
        assert db.session.get(ContentObject, approve_id).status is ObjectStatus.APPROVED
        assert db.session.get(ContentObject, changes_id).status is ObjectStatus.CHANGES_REQUESTED
        assert (
            db.session.scalar(sa.select(Approval.comment).where(Approval.object_id == changes_id))
            == "Le visuel est flou, merci de le remplacer."
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Publication).where(Publication.object_id == approve_id)
            )
            == 1
        )


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_a_blank_comment_is_refused_in_the_card_on_a_phone(
    browser, live_server, live_app, two_posts, screenshot, blank
):
    """The post with a poster: a blank comment used to answer 500 (the card could not render its
    thumbnails alone) and the phone showed nothing."""
    email, (poster_id, _) = two_posts
    context, page, errors = _log_in_as_approver(browser, live_server, email, PHONE)
    card = page.locator(f"#review-{poster_id}")
    card.get_by_text("Demander des modifications").tap()
    card.get_by_label("Que faut-il changer ?").fill(blank)
    with page.expect_response(lambda r: r.url.endswith(f"/reviews/{poster_id}/changes")) as answer:
        card.get_by_role("button", name="Renvoyer à l’éditeur").tap()
    assert answer.value.status == 422
    error = card.locator(".field-error")
    error.wait_for(timeout=5_000)
    assert "Un commentaire est requis" in error.inner_text()
    assert card.get_by_label("Que faut-il changer ?").is_visible()  # the form stays open, in place
    assert page.evaluate("document.activeElement.id") == f"comment-{poster_id}"  # ready to type
    assert card.get_by_test_id("media-thumb").count() == 1  # nothing lost from the card
    assert card.get_by_role("button", name="Approuver").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"review-comment-required-{'spaces' if blank else 'empty'}-phone")

    card.get_by_label("Que faut-il changer ?").fill("Recadrer l’affiche, merci.")
    card.get_by_role("button", name="Renvoyer à l’éditeur").tap()
    page.locator(f"#review-{poster_id}[data-testid=review-decided]").wait_for(timeout=10_000)
    assert [e for e in errors if "status of 422" not in e and "status of 404" not in e] == [], errors
    context.close()
    with live_app.app_context():
        assert (
            db.session.scalar(sa.select(Approval.comment).where(Approval.object_id == poster_id))
            == "Recadrer l’affiche, merci."
        )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_previews_link_opened_directly_is_a_whole_page(browser, live_server, two_posts, screenshot, viewport):
    email, (poster_id, _) = two_posts
    context, page, errors = _log_in_as_approver(browser, live_server, email, viewport)
    page.goto(live_server.url + f"/reviews/objects/{poster_id}/previews")
    assert page.get_by_role("heading", level=1).inner_text() == "Teaser du salon"
    assert page.locator("header .brand").is_visible()  # the site's header: a page
    assert page.get_by_test_id("preview-instagram").is_visible()
    assert page.evaluate("getComputedStyle(document.body).margin") != "8px"  # styled, not a bare fragment
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"review-previews-page-{'phone' if viewport is PHONE else 'desktop'}")
    assert [e for e in errors if "status of 404" not in e] == [], errors
    context.close()
