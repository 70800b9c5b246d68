"""Undo after "Approuver" on a phone, and the editor's delivery controls on a post page at the desk
(issue 13, point 5)."""

import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Approval,
    Campaign,
    ContentObject,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus,
    Role,
    User,
    object_targets,
)
from app.models.base import utcnow
from app.reviews import service as reviews
from tests.targets_support import add_target
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE

pytestmark = pytest.mark.browser


def _campaign(platforms):
    campaign = Campaign(name=f"Salon {uuid.uuid4().hex[:4]}")
    db.session.add(campaign)
    db.session.flush()
    scenarios = []
    for platform, label in platforms:
        scenarios.append(add_target(campaign, platform, label, webhook_url="http://127.0.0.1:9/hook"))
    return campaign, scenarios


def _post(campaign, scenarios, title, status=ObjectStatus.IN_REVIEW, **values):
    obj = ContentObject(
        campaign_id=campaign.id, title=title, message="Rendez-vous au salon le 12 mars !", status=status, **values
    )
    db.session.add(obj)
    db.session.flush()
    db.session.execute(object_targets.insert(), [{"object_id": obj.id, "campaign_scenario_id": s} for s in scenarios])
    return obj


def _log_in(browser, live_server, email, viewport, lands_on):
    context = browser.new_context(viewport=viewport, locale="fr-FR", has_touch=True, is_mobile=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url + lands_on, timeout=10_000)
    return context, page, errors


@pytest.fixture
def in_queue(live_app):
    with live_app.app_context():
        email = f"approver-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Agathe", Role.APPROVER, PASSWORD)
        campaign, scenarios = _campaign([(Platform.LINKEDIN, "Marque FR")])
        ids = [_post(campaign, scenarios, title).id for title in ("Annonce du salon", "Programme du salon")]
        db.session.commit()
        return email, ids


def test_approver_undoes_an_approval_on_a_phone(browser, live_server, live_app, in_queue, screenshot):
    email, (undone_id, expired_id) = in_queue
    context, page, errors = _log_in(browser, live_server, email, PHONE, "/reviews/")
    card = page.locator(f"#review-{undone_id}")
    count = page.get_by_test_id("review-count")
    assert count.inner_text() == "2 publications attendent votre décision."
    card.get_by_role("button", name="Approuver").tap()
    bar = page.locator(f"#review-{undone_id}[data-testid=review-decided]").get_by_test_id("undo-bar")
    bar.wait_for(timeout=10_000)
    undo = bar.get_by_role("button", name="Annuler")
    box = undo.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a thumb's target on a phone
    assert page.evaluate("document.activeElement.dataset.testid") == "undo-approval"  # focused: Enter undoes
    first = int(bar.locator("[data-undo-seconds]").inner_text())
    assert 27 <= first <= 30
    page.wait_for_function(
        f"() => Number(document.querySelector('#review-{undone_id} [data-undo-seconds]').textContent) <= {first - 1}",
        timeout=5_000,
    )
    assert "Rien ne part avant" in bar.inner_text()
    assert count.inner_text() == "1 publication attend votre décision."  # swapped with the card
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "undo-bar-phone")
    with live_app.app_context():
        assert db.session.get(ContentObject, undone_id).status is ObjectStatus.APPROVED

    page.keyboard.press("Enter")  # the keyboard reaches it
    back = page.locator(f"#review-{undone_id}[data-testid=review-card]")
    back.wait_for(timeout=10_000)
    assert "Approbation annulée" in back.get_by_test_id("undo-done").inner_text()
    assert back.get_by_role("button", name="Approuver").is_visible()
    assert count.inner_text() == "2 publications attendent votre décision."
    screenshot(page, "undo-done-phone")
    with live_app.app_context():
        assert db.session.get(ContentObject, undone_id).status is ObjectStatus.IN_REVIEW
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Publication).where(Publication.object_id == undone_id)
            )
            == 0
        )

    # After the window the bar says so in place of the button, and the server refuses a late undo.
    live_app.config["APPROVAL_UNDO_S"] = 2
    try:
        page.locator(f"#review-{expired_id}").get_by_role("button", name="Approuver").tap()
        late = page.locator(f"#review-{expired_id}[data-testid=review-decided]")
        late.get_by_text("Le délai d’annulation est passé").wait_for(timeout=10_000)
        assert late.get_by_role("button", name="Annuler").count() == 0
        screenshot(page, "undo-over-phone")
        page.goto(live_server.url + "/reviews/")
        assert page.get_by_test_id("undo-recent").count() == 0
        assert count.inner_text() == "1 publication attend votre décision."
        # The last card goes: the heading turns into the empty state, without a reload.
        page.locator(f"#review-{undone_id}").get_by_role("button", name="Approuver").tap()
        page.locator(f"#review-{undone_id}[data-testid=review-decided]").wait_for(timeout=10_000)
        count.get_by_text("Rien à relire").wait_for(timeout=5_000)
        assert "attend" not in count.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "undo-queue-empty-phone")
    finally:
        live_app.config["APPROVAL_UNDO_S"] = 30
    assert errors == [], errors
    context.close()
    with live_app.app_context():
        assert db.session.get(ContentObject, expired_id).status is ObjectStatus.APPROVED


@pytest.fixture
def editor_posts(live_app):
    """A failed post (Instagram refused by the network, LinkedIn published) and a scheduled one."""
    with live_app.app_context():
        email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Élodie", Role.EDITOR, PASSWORD)
        approver = accounts.create_user(f"a-{uuid.uuid4().hex[:6]}@example.org", "Agathe", Role.APPROVER, PASSWORD)
        campaign, scenarios = _campaign([(Platform.INSTAGRAM, "Marque FR"), (Platform.LINKEDIN, "Marque Pro")])
        failed = _post(campaign, scenarios, "Teaser du salon", link="https://example.org/salon")
        scheduled = _post(campaign, scenarios, "Rappel du salon", scheduled_at=utcnow() + timedelta(days=3))
        db.session.flush()
        for obj in (failed, scheduled):
            reviews.approve(obj, by=db.session.get(User, approver.id))
        db.session.flush()
        instagram, linkedin = db.session.scalars(
            sa.select(Publication).where(Publication.object_id == failed.id).order_by(Publication.campaign_scenario_id)
        ).all()
        instagram.status = PublicationStatus.FAILED
        instagram.last_error = "error: Error validating access token: Session has expired on Tuesday, 3-Mar-26"
        linkedin.status, linkedin.external_url = PublicationStatus.PUBLISHED, "https://www.linkedin.com/feed/update/1/"
        failed.status = ObjectStatus.FAILED
        db.session.commit()
        return email, campaign.id, failed.id, scheduled.id


def test_editor_reads_why_a_target_failed_and_retries_it_at_the_desk(
    browser, live_server, live_app, editor_posts, screenshot
):
    email, campaign_id, failed_id, scheduled_id = editor_posts
    context, page, errors = _log_in(browser, live_server, email, DESKTOP, "/campaigns/")
    page.goto(live_server.url + f"/campaigns/{campaign_id}/objects/{failed_id}")
    instagram = page.get_by_test_id("delivery-instagram")
    assert "La connexion du compte au réseau a expiré" in instagram.get_by_test_id("failure-reason").inner_text()
    detail = instagram.locator("details")
    assert not detail.locator("pre").is_visible()  # the technical text stays folded
    detail.locator("summary").click()
    assert "Session has expired" in detail.locator("pre").inner_text()
    assert page.get_by_test_id("delivery-linkedin").get_by_role("button", name="Relancer").count() == 0
    screenshot(page, "post-failed-target-desktop")

    instagram.get_by_role("button", name="Relancer").click()
    page.get_by_text("Nouvel essai : ce réseau reçoit le post dans un instant.").wait_for(timeout=10_000)
    assert page.get_by_test_id("delivery-instagram").get_attribute("data-status") == "pending"
    assert page.get_by_test_id("object-status").inner_text() == "Publication en cours"
    screenshot(page, "post-retried-desktop")

    page.goto(live_server.url + f"/campaigns/{campaign_id}/objects/{scheduled_id}")
    assert "Déprogrammer n’envoie rien" in page.get_by_test_id("post-control").inner_text()
    page.get_by_role("button", name="Déprogrammer").click()
    page.get_by_text("Déprogrammé : rien ne sera envoyé.").wait_for(timeout=10_000)
    assert page.get_by_role("button", name="Déprogrammer").count() == 0
    assert page.get_by_role("button", name="Publier maintenant").is_visible()
    screenshot(page, "post-unscheduled-desktop")
    assert errors == [], errors
    context.close()
    with live_app.app_context():
        assert db.session.get(ContentObject, scheduled_id).status is ObjectStatus.APPROVED
        assert db.session.get(ContentObject, failed_id).status is ObjectStatus.PUBLISHING


def test_the_undo_bar_fits_a_desktop_card_too(browser, live_server, live_app, in_queue, screenshot):
    email, (object_id, _) = in_queue
    context, page, errors = _log_in(browser, live_server, email, DESKTOP, "/reviews/")
    page.locator(f"#review-{object_id}").get_by_role("button", name="Approuver").click()
    bar = page.locator(f"#review-{object_id}").get_by_test_id("undo-bar")
    bar.wait_for(timeout=10_000)
    time.sleep(0.3)
    screenshot(page, "undo-bar-desktop")
    bar.get_by_role("button", name="Annuler").click()
    page.locator(f"#review-{object_id}[data-testid=review-card]").wait_for(timeout=10_000)
    assert errors == [], errors
    context.close()
    with live_app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Approval).where(Approval.object_id == object_id))
            == 0
        )
