"""The Make checks in Chromium, on a phone and at the desk: "Test in Make" on a campaign's
scenario row turns into "Verified in Make" without a reload (the emulator runs the dry-run route
and calls the app back); an account's template that breaks the contract is listed with its
fixes; the admin's Make health page shows the doctor's report and the publishing page its drift.
The app, the Make emulator and a worker run on loopback."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.auth import service as users
from app.campaigns import service as campaigns
from app.extensions import db
from app.models import CampaignScenario, Platform, Role, ScenarioStatus
from app.platforms import service as accounts
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE
from tests.make_sandbox import CONNECTIONS, SECRET, ServedEmulator, emulated_app, wait_for
from tests.make_templates import contract_template, instagram_photo

pytestmark = pytest.mark.browser
EXPORT = Path(__file__).resolve().parent.parent / "fixtures/make/rss-to-social.blueprint.json"


@pytest.fixture(scope="module")
def stack(servers):
    emulator = ServedEmulator()
    try:
        with emulated_app(servers, emulator.settings(), worker_threads=2, serve=True) as app:
            yield app, app.config["PUBLIC_BASE_URL"], emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def seeded(stack):
    app, _, emulator = stack
    with app.app_context(), accounts.make_client() as client:
        admin = f"admin-{uuid.uuid4().hex[:6]}@example.org"
        users.create_user(admin, "Adèle", Role.ADMIN, PASSWORD)
        hook = client.create_hook("template-instagram")
        template = client.create_scenario(
            contract_template(
                instagram_photo(CONNECTIONS["instagram"]), secret=SECRET, hook_id=hook["id"], name="template-instagram"
            )
        )["id"]
        exported = client.create_scenario(json.loads(EXPORT.read_text(encoding="utf-8")))["id"]
        good = accounts.create_account(
            Platform.INSTAGRAM,
            label="Insta Salon",
            make_connection_id=77,
            account_identifier="17841400000000001",
            template_scenario_id=template,
        )
        accounts.create_account(
            Platform.LINKEDIN,
            label="LinkedIn Salon",
            make_connection_id=79,
            account_identifier="urn:li:organization:2414183",
            template_scenario_id=exported,
        )
        facebook = accounts.create_account(
            Platform.FACEBOOK,
            label="Page Salon",
            make_connection_id=78,
            account_identifier="104857600000001",
            template_scenario_id=None,
        )
        campaign = campaigns.create_campaign(
            name="Salon 2026",
            description="",
            starts_on=None,
            ends_on=None,
            account_ids=[good.id, facebook.id],
            actor=None,
        )
        db.session.commit()
        campaign_id = campaign.id

    def ready():
        with app.app_context():
            rows = db.session.scalars(
                sa.select(CampaignScenario).where(CampaignScenario.campaign_id == campaign_id)
            ).all()
            return len(rows) == 2 and all(r.status is ScenarioStatus.READY for r in rows)

    wait_for(ready, timeout=30)
    return {"admin": admin, "campaign": campaign_id}


@pytest.mark.parametrize("viewport,language", [(PHONE, "fr-FR"), (DESKTOP, "en-GB")])
def test_test_in_make_turns_into_verified_live(stack, seeded, browser, screenshot, viewport, language):
    _, base, _ = stack
    context = browser.new_context(viewport=viewport, locale=language)
    page = context.new_page()
    log_in_as(page, base, seeded["admin"], language)
    page.goto(f"{base}/campaigns/{seeded['campaign']}")
    box = page.get_by_test_id("make-box").first
    button = box.get_by_test_id("dry-run-button")
    button.click()
    verified = "Vérifié dans Make" if language.startswith("fr") else "Verified in Make"
    box = page.locator('[data-testid="make-box"][data-dry-run="verified"]').first
    box.wait_for(timeout=20_000)
    assert verified in box.inner_text()
    screenshot(page, f"make-dry-run-{viewport['width']}")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_accounts_doctor_and_drift_pages(stack, seeded, browser, screenshot, viewport):
    app, base, _ = stack
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    log_in_as(page, base, seeded["admin"], "en-GB")
    page.goto(f"{base}/platforms/")
    problems = page.get_by_test_id("template-problems")
    problems.wait_for(timeout=20_000)  # the test of a template saved with the account
    assert "does not start with a custom webhook" in problems.inner_text()
    assert "Fix:" in problems.inner_text()
    screenshot(page, f"make-accounts-{viewport['width']}")
    page.goto(f"{base}/make/doctor")
    page.get_by_role("button", name="Check now").click()
    page.get_by_text("Checking…").wait_for(timeout=5_000)
    page.get_by_role("button", name="Check now").wait_for(timeout=30_000)  # the report landed
    assert "Nothing fails" in page.get_by_test_id("make-report").inner_text()
    screenshot(page, f"make-doctor-{viewport['width']}")
    page.goto(f"{base}/hooks/")
    drift = page.get_by_test_id("make-drift")
    drift.wait_for(timeout=10_000)
    assert "Every ready scenario matches what the CMS renders" in drift.inner_text()
    screenshot(page, f"make-drift-{viewport['width']}")
    context.close()


def log_in_as(page, base: str, email: str, language: str) -> None:
    """The login form in the browser's language; admins land on the users page."""
    french = language.startswith("fr")
    page.goto(base + "/login")
    page.get_by_label("Adresse e-mail" if french else "E-mail address").fill(email)
    page.get_by_label("Mot de passe" if french else "Password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter" if french else "Log in").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
