"""An editor creates a campaign with two accounts in Chromium and watches both scenarios become
ready: the live server, a Dramatiq worker and the Make emulator all run for real."""

from __future__ import annotations

import re
import uuid

import dramatiq
import pytest

from app.auth import service as users
from app.extensions import db
from app.models import Platform, Role
from app.platforms import service as accounts
from sandbox.server import BackgroundServer
from tests.conftest import create_migrated_database, drop_database, make_test_app
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in
from tests.make_sandbox import CONNECTIONS, ServedEmulator

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(servers):
    """(server url, editor e-mail, emulator): committed data in a database of its own."""
    emulator = ServedEmulator()
    url = create_migrated_database(servers)
    app = make_test_app(servers, url, **emulator.settings())
    with app.app_context():
        email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
        users.create_user(email, "Edith", Role.EDITOR, PASSWORD)
        for platform, label, identifier in (
            (Platform.INSTAGRAM, "IG Salon", "17841400000000001"),
            (Platform.LINKEDIN, "LinkedIn Page", "2414183"),
            (Platform.X, "X Compte", "783214"),
        ):
            accounts.create_account(
                platform,
                label=label,
                account_identifier=identifier,
                make_connection_id=CONNECTIONS[platform.value],
                template_scenario_id=None,
            )
        db.session.commit()
    broker = app.extensions["dramatiq"]
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_threads=2)
    worker.start()
    with BackgroundServer(app) as server:
        yield server.url, email, emulator
    worker.stop()
    broker.flush_all()
    with app.app_context():
        db.engine.dispose()
    drop_database(servers.database_url, url)
    emulator.stop()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_editor_creates_a_campaign_and_sees_both_scenarios_become_ready(browser, stack, screenshot, viewport):
    from playwright.sync_api import expect

    base, email, emulator = stack
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, base, email)
    page.get_by_role("link", name="New campaign").click()
    page.get_by_role("button", name="Create the campaign").click()  # empty: refused, kept
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("Name").fill(name := f"Salon {viewport['width']}")
    page.get_by_label("Start date").fill("2026-03-01")
    page.get_by_label("End date").fill("2026-03-31")
    page.get_by_label("Instagram — IG Salon").check()
    page.get_by_label("LinkedIn — LinkedIn Page").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"campaign-form-{'phone' if viewport is PHONE else 'desktop'}")
    page.get_by_role("button", name="Create the campaign").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+$"), timeout=10_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    cards = page.locator("li.scenario")
    expect(cards).to_have_count(2)
    expect(page.locator('li.scenario[data-status="ready"]')).to_have_count(2, timeout=20_000)
    for card in cards.all():
        expect(card.get_by_test_id("scenario-status")).to_have_text("Ready")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"campaign-ready-{'phone' if viewport is PHONE else 'desktop'}")
    campaign_id = int(page.url.rsplit("/", 1)[1])
    active = [s["name"] for s in emulator.scenarios() if s["isActive"]]
    assert len([n for n in active if n.startswith(f"cms-test-c{campaign_id}-")]) == 2
    # The refused empty form was answered 422 on purpose; nothing else may fail (CSP, scripts).
    assert [e for e in errors if "status of 422" not in e] == [], errors
    context.close()


def test_date_fields_are_day_first_in_french_on_a_phone(browser, stack, screenshot):
    """Issue 15, point 12: no native date input (Chromium shows it as "mm/dd/yyyy" whatever the
    page's language) on the campaign form or the library's filters; typed day first, read back
    the same way, and the library's link keeps the ISO date."""
    from playwright.sync_api import expect

    base, email, _ = stack
    context = browser.new_context(viewport=PHONE, locale="fr-FR", has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)

    page.goto(base + "/campaigns/new")
    assert page.locator("input[type=date]").count() == 0
    start, end = page.locator("input[name=starts_on]"), page.locator("input[name=ends_on]")
    for field in (start, end):
        expect(field).to_have_attribute("placeholder", "JJ/MM/AAAA")
        expect(field).to_have_attribute("inputmode", "numeric")
        expect(field).to_have_attribute("lang", "fr")
    expect(page.locator("#starts_on-hint")).to_be_visible()
    page.locator("input[name=name]").fill("Fête nationale")
    start.fill("01/07/2027")
    end.fill("31/06/2027")  # no such day: refused, kept as typed, said in French
    page.get_by_label("Instagram — IG Salon").check()
    page.locator("form[data-testid=campaign-form] button[type=submit]").click()
    expect(page.locator("#ends_on-error")).to_have_text(
        "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/07/2027."
    )
    expect(end).to_have_value("31/06/2027")
    expect(start).to_have_value("01/07/2027")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "campaign-dates-fr-phone")
    end.fill("14/07/2027")
    page.locator("form[data-testid=campaign-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+$"), timeout=10_000)
    page.goto(page.url + "/edit")
    expect(page.locator("input[name=starts_on]")).to_have_value("01/07/2027")
    expect(page.locator("input[name=ends_on]")).to_have_value("14/07/2027")

    page.goto(base + "/media/")
    assert page.locator("input[type=date]").count() == 0
    page.locator("details.filters-panel > summary").click()
    date_from = page.locator("#filter-from")
    expect(date_from).to_have_attribute("placeholder", "JJ/MM/AAAA")
    date_from.fill("10/03/2026")
    date_from.press("Tab")  # a change runs the search and pushes the address
    page.wait_for_url(re.compile(r"date_from=2026-03-10"), timeout=10_000)
    expect(page.locator("#filter-from")).to_have_value("10/03/2026")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "library-date-filter-fr-phone")
    page.goto(base + "/media/?date_from=2026-02-31")
    expect(page.locator("#filter-from-error")).to_have_text(
        "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/07/2027."
    )
    expect(page.locator("#filter-from")).to_have_value("2026-02-31")
    assert [e for e in errors if "status of 422" not in e] == [], errors
    context.close()
