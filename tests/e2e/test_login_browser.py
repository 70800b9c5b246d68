"""Each role logs in through the real form and lands on its home, at desktop and phone sizes."""

import uuid

import pytest

from app.auth import service as accounts
from app.extensions import db
from app.models import Role
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser
HOMES = {
    Role.ADMIN: ("/admin/users", "Utilisateurs"),
    Role.EDITOR: ("/campaigns/", "Campagnes"),
    Role.APPROVER: ("/reviews/", "File de relecture"),
}


@pytest.fixture(scope="module")
def people(live_app):
    created = {}
    with live_app.app_context():
        for role in Role:
            email = f"{role.value}-{uuid.uuid4().hex[:6]}@example.org"
            accounts.create_user(email, f"Person {role.value}", role, "browser test password")
            created[role] = email
        db.session.commit()
    return created


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_role_logs_in_and_sees_its_home(browser, live_server, people, screenshot, role, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/campaigns/")
    assert "/login?next=" in page.url  # anonymous: sent to the login page
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(people[role])
    page.get_by_label("Mot de passe").fill("browser test password")
    page.get_by_role("button", name="Se connecter").click()
    path, heading = HOMES[role]
    page.wait_for_url(live_server.url + path, timeout=10_000)
    assert page.get_by_role("heading", level=1).inner_text() == heading
    if viewport is PHONE:  # the session tools are in the menu, behind its button
        page.locator(".menu-button").click()
    assert page.get_by_test_id("whoami").is_visible()
    # Usable at phone width: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"home-{role.value}-{'phone' if viewport is PHONE else 'desktop'}")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(live_server.url + "/login", timeout=10_000)
    assert "Vous êtes déconnecté." in page.content()
    assert errors == [], errors  # no CSP violations or script errors
    context.close()


def test_wrong_password_shows_the_error_and_keeps_the_email(browser, live_server, people, screenshot):
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(people[Role.APPROVER])
    page.get_by_label("Mot de passe").fill("not the right one")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_test_id("login-error").inner_text() == "Adresse e-mail ou mot de passe incorrect."
    assert page.get_by_label("Adresse e-mail").input_value() == people[Role.APPROVER]
    screenshot(page, "login-error-phone")
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_english_chosen_on_the_login_page_is_kept_after_logging_in(
    browser, live_server, live_app, screenshot, viewport
):
    """A French browser, EN pressed on the login page: the pages after the login are in English,
    and so is the next login from another French browser (the choice became the preference)."""
    with live_app.app_context():
        email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Person editor", Role.EDITOR, "browser test password")
        db.session.commit()
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/login")
    assert page.evaluate("document.activeElement.id") == "email"  # focused, no autofocus="None"
    page.get_by_role("button", name="EN", exact=True).click()
    page.wait_for_url(live_server.url + "/login")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("browser test password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/campaigns/", timeout=10_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Campaigns"
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, f"login-language-kept-{'phone' if viewport is PHONE else 'desktop'}")
    assert errors == [], errors
    context.close()

    other = browser.new_context(viewport=viewport, locale="fr-FR")
    page = other.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("browser test password")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url + "/campaigns/", timeout=10_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Campaigns"
    other.close()
