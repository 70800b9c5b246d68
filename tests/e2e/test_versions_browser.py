"""The approver reads each network's version of a post on a phone, one tab per network (issue 12,
point 1), switches tabs by tap and by keyboard, and approves every version at once; without
JavaScript the versions are shown one under the other."""

import uuid

import pytest
import sqlalchemy as sa

from app import versions
from app.auth import service as accounts
from app.extensions import db
from app.models import Approval, Campaign, ContentObject, ObjectStatus, Platform, Publication, Role, object_targets
from app.publishing import outbox
from app.review_links import service as review_links
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, real_errors
from tests.objects_support import make_asset, with_previews
from tests.targets_support import add_target

pytestmark = pytest.mark.browser

BASE = (
    "Le salon ouvre ses portes le 12 mars : trois jours de rencontres, d’ateliers et de conférences "
    "pour tous les professionnels de la filière. Inscriptions ouvertes sur notre site."
)
FOR_X = "Salon le 12 mars ! Trois jours de rencontres. #salon2026"


@pytest.fixture
def post_with_versions(live_app):
    with live_app.test_request_context():
        email = f"approver-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Agathe", Role.APPROVER, PASSWORD)
        campaign = Campaign(name=f"Salon {uuid.uuid4().hex[:4]}")
        db.session.add(campaign)
        db.session.flush()
        scenarios = [
            add_target(campaign, platform, label, webhook_url="http://127.0.0.1:9/hook")
            for platform, label in ((Platform.LINKEDIN, "Marque FR"), (Platform.X, "@salon"))
        ]
        obj = ContentObject(
            campaign_id=campaign.id,
            title="Ouverture du salon",
            message=BASE,
            link="https://example.org/salon",
            status=ObjectStatus.IN_REVIEW,
        )
        db.session.add(obj)
        db.session.flush()
        db.session.execute(
            object_targets.insert(), [{"object_id": obj.id, "campaign_scenario_id": s} for s in scenarios]
        )
        poster = with_previews(make_asset("Affiche du salon", size=(1080, 1350)))
        square = with_previews(make_asset("Visuel carré pour X"), color=(200, 60, 40))
        from app.models import ObjectMedia

        db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=poster.id, position=0))
        db.session.flush()
        versions.save(obj, Platform.X, message=FOR_X, link="", media=[square.id])
        editor = accounts.create_user(f"editor-{uuid.uuid4().hex[:6]}@example.org", "Eric", Role.EDITOR, PASSWORD)
        _, token = review_links.create(obj, by=editor, name="Claire Juriste", email="claire@client.example", days=7)
        db.session.commit()
        return email, obj.id, token


def _log_in(browser, live_server, email, javascript=True, viewport=PHONE):
    context = browser.new_context(
        viewport=viewport, locale="fr-FR", has_touch=True, is_mobile=viewport is PHONE, java_script_enabled=javascript
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url + "/reviews/", timeout=10_000)
    return context, page, errors


def test_the_approver_reads_each_version_tab_by_tab_on_a_phone_and_approves(
    browser, live_server, live_app, post_with_versions, screenshot
):
    email, object_id, token = post_with_versions

    # Without JavaScript: no tab bar, both versions one under the other, each under its network.
    context, page, _ = _log_in(browser, live_server, email, javascript=False)
    card = page.locator(f"#review-{object_id}")
    assert card.get_by_role("tablist").count() == 0 or not card.get_by_role("tablist").is_visible()
    assert (
        card.get_by_test_id("version-panel-linkedin").is_visible()
        and card.get_by_test_id("version-panel-x").is_visible()
    )
    assert card.get_by_role("heading", name="X", exact=True).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "versions-card-no-js-phone")
    context.close()

    # At the desk, the same card: its tabs above the open version, nothing wider than the window.
    context, page, _ = _log_in(browser, live_server, email, viewport=DESKTOP)
    page.locator(f"#review-{object_id}").get_by_role("tab", name="X").click()
    assert FOR_X in page.locator(f"#review-{object_id}").get_by_test_id("version-panel-x").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    screenshot(page, "versions-card-x-desktop")
    context.close()

    context, page, errors = _log_in(browser, live_server, email)
    card = page.locator(f"#review-{object_id}")
    tabs = card.get_by_role("tablist")
    tabs.wait_for(timeout=5_000)
    linkedin_tab, x_tab = tabs.get_by_role("tab", name="LinkedIn"), tabs.get_by_role("tab", name="X")
    linkedin, x = card.get_by_test_id("version-panel-linkedin"), card.get_by_test_id("version-panel-x")
    assert linkedin_tab.get_attribute("aria-selected") == "true" and linkedin.is_visible() and not x.is_visible()
    assert BASE in linkedin.inner_text()
    # LinkedIn's image post takes no link: the card says so rather than show one that is not posted.
    assert "https://example.org/salon" not in linkedin.inner_text()
    assert "Avec des fichiers, ce réseau ne publie pas de lien" in linkedin.inner_text()
    for tab in (linkedin_tab, x_tab):
        assert tab.bounding_box()["height"] >= 44  # a thumb's target
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "versions-card-linkedin-phone")

    # A tap on X shows X's own text and file, without the link it drops.
    x_tab.tap()
    assert x.is_visible() and not linkedin.is_visible() and x_tab.get_attribute("aria-selected") == "true"
    shown = x.inner_text()
    assert FOR_X in shown and "Version propre à X : texte, pas de lien, médias" in shown
    assert "example.org/salon" not in shown and BASE not in shown
    assert "Visuel carré pour X" in x.get_by_test_id("media-thumb").get_attribute("aria-label")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "versions-card-x-phone")

    # The keyboard: the arrows move between the tabs and take the focus with them.
    x_tab.focus()
    page.keyboard.press("ArrowLeft")
    assert linkedin_tab.get_attribute("aria-selected") == "true" and linkedin.is_visible() and not x.is_visible()
    assert page.evaluate("document.activeElement.textContent.trim()") == "LinkedIn"
    page.keyboard.press("End")
    assert x_tab.get_attribute("aria-selected") == "true" and x.is_visible()
    page.keyboard.press("ArrowRight")  # wraps round to the first
    assert linkedin_tab.get_attribute("aria-selected") == "true"
    page.keyboard.press("Tab")  # then into the open version
    assert page.evaluate("document.activeElement.dataset.testid") == "version-panel-linkedin"

    # The previews per network (those of the post page) count and show each network's version.
    page.goto(live_server.url + f"/reviews/objects/{object_id}/previews")
    x_preview = page.get_by_test_id("preview-x")
    assert FOR_X in x_preview.inner_text() and "Version propre à X" in x_preview.inner_text()
    assert BASE in page.get_by_test_id("preview-linkedin").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "versions-previews-phone")

    # The outside reviewer's page has the same tabs, its files through public links.
    reviewer = browser.new_context(viewport=PHONE, locale="fr-FR", has_touch=True, is_mobile=True)
    public = reviewer.new_page()
    public.goto(live_server.url + f"/r/{token}")
    versions_box = public.get_by_test_id("review-link-versions")
    versions_box.get_by_role("tab", name="X").tap()
    assert FOR_X in versions_box.get_by_test_id("version-panel-x").inner_text()
    assert versions_box.get_by_test_id("version-panel-x").locator("img").get_attribute("src").startswith("/m/")
    assert public.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(public, "versions-review-link-phone")
    reviewer.close()

    page.goto(live_server.url + "/reviews/")
    card.get_by_role("tablist").wait_for(timeout=5_000)
    assert "Approuver approuve toutes les versions." in card.inner_text()
    card.get_by_role("button", name="Approuver").tap()
    page.locator(f"#review-{object_id}[data-testid=review-decided]").wait_for(timeout=10_000)
    screenshot(page, "versions-card-approved-phone")
    assert real_errors(errors) == [], errors
    context.close()

    with live_app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.APPROVED
        approved = db.session.scalar(sa.select(Approval.fingerprint).where(Approval.object_id == object_id))
        assert approved == outbox.fingerprint(obj) and versions.canonical(obj)  # X's version is in it
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Publication).where(Publication.object_id == object_id)
            )
            == 2
        )
