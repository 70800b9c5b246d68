"""The publishing health page in Chromium, as a French admin, on a phone and at the desk: a
failure a retry has since published is gone, everything reads in French (no raw statuses or
event ids), callbacks set aside are listed, and "settle by hand" refuses a `javascript:`
address in place, keeping what was typed."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from app.auth import service as users
from app.extensions import db
from app.models import (
    CallbackEvent,
    Campaign,
    ContentObject,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus as P,
    Role,
)
from app.models.base import utcnow
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE
from tests.targets_support import add_target

pytestmark = pytest.mark.browser


def _seed() -> dict:
    email = f"admin-{uuid.uuid4().hex[:6]}@example.org"
    users.create_user(email, "Adèle", Role.ADMIN, PASSWORD)
    campaign = Campaign(name="Salon 2026")
    first = ContentObject(campaign=campaign, title="Affiche du salon", message="m", status=ObjectStatus.FAILED)
    db.session.add(first)
    db.session.flush()
    ids = {"email": email}
    for platform, label in ((Platform.INSTAGRAM, "Insta Salon"), (Platform.FACEBOOK, "Page Salon")):
        ids[platform.value] = add_target(campaign, platform, label)

    def publication(scenario, status, generation=1, **fields):
        row = Publication(
            object_id=first.id,
            campaign_scenario_id=scenario,
            generation=generation,
            fingerprint="sha256:x",
            idempotency_key=f"e2e-{scenario}-g{generation}",
            status=status,
            attempts=1,
            **fields,
        )
        db.session.add(row)
        db.session.flush()
        return row.id

    ids["retried"] = publication(ids["instagram"], P.FAILED, last_error="HTTP 400: bad media")
    ids["published"] = publication(
        ids["instagram"], P.PUBLISHED, generation=2, external_url="https://www.instagram.com/p/abc"
    )
    ids["unknown"] = publication(ids["facebook"], P.UNKNOWN, last_error="no callback from Make in time")
    now = utcnow()
    db.session.add_all(
        [
            CallbackEvent(
                webhook_id=f"pub-{ids['published']}:published:1",
                publication_id=ids["published"],
                status="published",
                outcome="applied",
                raw_body="{}",
                received_at=now,
                applied_at=now,
            ),
            CallbackEvent(
                webhook_id=f"pub-{ids['unknown']}:failed:1",
                publication_id=ids["unknown"],
                status="failed",
                outcome="could_not_apply",
                raw_body=json.dumps({"status": "failed", "error": "Refusé"}),
                attempts=5,
                last_error="AttributeError: 'str' object has no attribute 'get'",
                received_at=now,
                applied_at=now,
            ),
        ]
    )
    db.session.commit()
    return ids


@pytest.fixture(scope="module")
def stack(live_app, live_server):
    """The shared live app, with a campaign of its own (nothing else reads the health page)."""
    with live_app.app_context():
        ids = _seed()
    return live_server.url, ids


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_health_page_in_french(browser, stack, screenshot, viewport):
    from playwright.sync_api import expect

    base, ids = stack
    size = "phone" if viewport is PHONE else "desktop"
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(ids["email"])
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)

    page.goto(base + "/hooks/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.locator(f'[data-testid="attention-{ids["retried"]}"]').count() == 0  # a retry published it
    card = page.locator(f'[data-testid="attention-{ids["unknown"]}"]')
    expect(card).to_contain_text("Sans réponse")
    expect(card).to_contain_text("pas de réponse de Make à temps")  # the sweep's note, in French
    aside = page.locator("#could-not-apply")
    expect(aside).to_contain_text("Le message de Make n’a pas la forme attendue")
    expect(aside).to_contain_text("Affiche du salon")
    text = page.locator("main").inner_text()
    assert "pub-" not in text
    words = set(re.findall(r"\b[a-z_]+\b", page.locator('[data-testid="callbacks"]').inner_text()))
    assert not words & {"published", "failed", "applied", "stale", "could_not_apply"}
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"health-{size}")

    card.get_by_text("Régler à la main").click()
    card.locator("input[name=external_url]").fill("javascript:alert(document.cookie)")
    card.get_by_role("button", name="Elle a été publiée").click()
    card = page.locator(f'[data-testid="attention-{ids["unknown"]}"]')
    expect(card.locator(".field-error")).to_contain_text("commençant par https://")
    expect(card.locator("input[name=external_url]")).to_have_value("javascript:alert(document.cookie)")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"health-settle-refused-{size}")
    assert not [e for e in errors if "status of 422" not in e], errors  # the refusal itself is a 422
    context.close()
