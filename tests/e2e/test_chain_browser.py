"""An editor sets a campaign's approval chain on a 390-px phone, in French, with the keyboard:
two steps ("Communication" for the approver, "Juridique" for everyone with the admin role), the
second moved up; then at a desk the page shows both steps in their new order, no sideways scroll
(docs/approval-chains.md, "Editing the chain")."""

import pytest

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.daily_seed import no_sideways_scroll, remove, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(live_app):
    world = seed(live_app)
    yield world
    remove(live_app, world)


def test_an_editor_builds_a_chain_on_a_phone(browser, live_server, world, screenshot):
    context = browser.new_context(viewport=PHONE, locale="fr-FR", has_touch=True, is_mobile=True)
    page = context.new_page()
    log_in_fr(page, live_server.url, world.editor)
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}")
    page.get_by_test_id("chain-link").click()
    assert page.get_by_test_id("chain-empty").is_visible()

    new = page.get_by_test_id("chain-new-step")
    new.get_by_label("Nom de l’étape").fill("Communication")
    new.get_by_label("Agathe Approbatrice").check()
    new.get_by_role("button", name="Ajouter l’étape").click()
    page.wait_for_selector('[data-testid="chain-step"]')

    new = page.get_by_test_id("chain-new-step")
    new.get_by_label("Nom de l’étape").fill("Juridique")
    new.get_by_label("Tous", exact=True).check()
    new.get_by_label("Toutes les personnes ayant le rôle").select_option("admin")
    new.get_by_role("button", name="Ajouter l’étape").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=chain-step]').length === 2")

    page.get_by_role("button", name="Monter «\xa0Juridique\xa0»").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    headings = page.locator('[data-testid="chain-step"] h2').all_inner_texts()
    assert headings == ["Étape 1 : Juridique", "Étape 2 : Communication"]
    width, screen = no_sideways_scroll(page)
    assert width <= screen
    screenshot(page, "approval-chain-phone")

    # An empty name is refused in French, nothing lost.
    new = page.get_by_test_id("chain-new-step")
    new.get_by_label("Agathe Approbatrice").check()
    new.get_by_role("button", name="Ajouter l’étape").click()
    assert page.get_by_text("Nommez l’étape, par exemple").is_visible()
    assert page.locator('[data-testid="chain-step"]').count() == 2
    context.close()

    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    log_in_fr(page, live_server.url, world.editor)
    page.goto(f"{live_server.url}/reviews/campaigns/{world.campaign_id}/chain")
    assert page.locator('[data-testid="chain-step"]').count() == 2
    width, screen = no_sideways_scroll(page)
    assert width <= screen
    screenshot(page, "approval-chain-desktop")
    context.close()


def log_in_fr(page, base, email):
    from tests.e2e.conftest import PASSWORD

    page.goto(base + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(base + "/campaigns/", timeout=10_000)
