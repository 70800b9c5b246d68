"""Daily use on a phone (390x844) and at the desk (1280x800): no page scrolls sideways, a short
phone header with a menu that works from the keyboard and without JavaScript, tap targets of
44 px, the French admin header on one line, and feedback after saving and submitting a post."""

import re

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, log_in
from tests.e2e.daily_seed import no_sideways_scroll, remove, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(live_app):
    world = seed(live_app)
    yield world
    remove(live_app, world)


def _context(browser, viewport, **options):
    phone = viewport is PHONE
    return browser.new_context(viewport=viewport, locale="en-GB", has_touch=phone, is_mobile=phone, **options)


def _rects(locator):
    return locator.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())")


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, world, screenshot):
    context = _context(browser, PHONE)
    page = context.new_page()
    log_in(page, live_server.url, world.editor)
    base = live_server.url
    page.goto(f"{base}/campaigns/{world.campaign_id}/objects/new")
    page.locator(".picker-grid").wait_for()  # the media picker, the widest part of the form
    page.locator(".picker-grid img").first.wait_for()
    width, inner = no_sideways_scroll(page)
    assert width <= inner, ("post form", width, inner)
    # A chosen file lists its title and its buttons: the selection must fit too.
    page.locator(".picker-tile").filter(has_text="_affiche_finale_validee_HD").first.get_by_role("button").click()
    page.locator(".picker-chosen li").first.wait_for()
    width, inner = no_sideways_scroll(page)
    assert width <= inner, ("post form", width, inner)
    screenshot(page, "post-form-phone")
    for name, path in (
        ("board", f"/campaigns/{world.campaign_id}/board"),
        ("post page", f"/campaigns/{world.campaign_id}/objects/{world.posts['Ouverture des portes']}"),
        ("library", "/media/"),
    ):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        width, inner = no_sideways_scroll(page)
        assert width <= inner, (name, width, inner)
    screenshot(page, "library-phone")
    context.close()
    context = _context(browser, PHONE)
    page = context.new_page()
    log_in_any(page, base, world.approver)
    page.goto(base + "/reviews/")
    page.get_by_test_id("review-card").first.wait_for()
    width, inner = no_sideways_scroll(page)
    assert width <= inner, ("review queue", width, inner)
    screenshot(page, "review-queue-phone")
    context.close()


def log_in_any(page, base, email):
    """Log in and wait for whichever page the role lands on."""
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("browser test password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)


def test_phone_header_is_one_short_row_with_a_menu(browser, live_server, world, screenshot):
    for email in (world.approver, world.admin):
        context = _context(browser, PHONE)
        page = context.new_page()
        log_in_any(page, live_server.url, email)
        header = page.locator("header.topbar")
        assert header.bounding_box()["height"] <= 64, header.bounding_box()
        nav = page.get_by_role("navigation", name=re.compile("Main navigation|Navigation principale"))
        assert not nav.is_visible()
        # From the keyboard: Tab to the menu button, Enter opens the navigation.
        page.locator(".menu-button").focus()
        page.keyboard.press("Enter")
        nav.wait_for(state="visible")
        for box in _rects(nav.locator("a")):
            assert box["height"] >= 44 and box["right"] <= PHONE["width"], box
        assert page.get_by_test_id("whoami").is_visible()
        screenshot(page, f"menu-open-phone-{'admin' if email == world.admin else 'approver'}")
        page.keyboard.press("Enter")
        nav.wait_for(state="hidden")
        context.close()


def test_the_menu_works_without_javascript(browser, live_server, world):
    context = _context(browser, PHONE)
    page = context.new_page()
    log_in_any(page, live_server.url, world.approver)
    context.close()
    context = _context(browser, PHONE, java_script_enabled=False)
    page = context.new_page()
    log_in_any(page, live_server.url, world.approver)
    assert page.locator("header.topbar").bounding_box()["height"] <= 64
    page.locator(".menu-button").click()
    review = page.locator(".mainnav a", has_text="Review")
    review.wait_for(state="visible")
    review.click()
    page.wait_for_url("**/reviews/")
    context.close()


def test_tap_targets_are_44_px_tall_on_the_review_queue(browser, live_server, world):
    context = _context(browser, PHONE)
    page = context.new_page()
    log_in_any(page, live_server.url, world.approver)
    page.goto(live_server.url + "/reviews/")
    card = page.get_by_test_id("review-card").first
    card.wait_for()
    for name, locator in (
        ("History", card.get_by_role("link", name="History")),
        ("links in the post", card.locator(".post-preview a:not(.media-thumb)")),
    ):
        rects = _rects(locator)
        assert rects, name
        assert all(r["height"] >= 44 for r in rects), (name, rects)
    context.close()


def test_french_admin_header_fits_on_one_line_at_1280(browser, live_server, world, screenshot):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    log_in_any(page, live_server.url, world.admin)
    page.goto(live_server.url + "/campaigns/")
    assert page.locator("html").get_attribute("lang") == "fr"
    users = page.get_by_role("link", name="Utilisateurs")
    assert users.is_visible()
    screenshot(page, "header-admin-fr-desktop")
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 64, header
    links = page.locator(".mainnav a")
    tops = {round(r["top"]) for r in _rects(links)}
    assert len(tops) == 1, tops  # one line
    clipped = links.evaluate_all(
        "els => els.filter(a => a.scrollWidth > a.clientWidth"
        " || a.getBoundingClientRect().right > innerWidth).map(a => a.textContent)"
    )
    assert clipped == []
    assert page.locator(".mainnav").evaluate("n => n.scrollWidth <= n.clientWidth")
    context.close()


CONTRAST = """el => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(el);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
  return {background: style.backgroundColor, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
}"""


@pytest.mark.parametrize("viewport, name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_saving_and_submitting_a_post_say_what_happened(browser, live_server, world, screenshot, viewport, name):
    """As a French reader on a US-English browser: the schedule is typed day first with a visible
    hint, saving and a refused submit say so, the address is the post's, times have no seconds."""
    from datetime import date

    context = browser.new_context(
        viewport=viewport, locale="en-US", has_touch=viewport is PHONE, is_mobile=viewport is PHONE
    )
    page = context.new_page()
    log_in_any(page, live_server.url, world.admin)
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}/objects/new")
    day = page.get_by_label("Date de publication")
    assert day.get_attribute("type") == "text" and day.get_attribute("lang") == "fr"
    assert day.get_attribute("placeholder") == "JJ/MM/AAAA"
    assert "JJ/MM/AAAA" in page.get_by_test_id("schedule").inner_text()
    page.get_by_label("Titre", exact=True).fill(f"Annonce {name}")
    page.get_by_label("Message", exact=True).fill("Le salon ouvre ses portes !")
    page.get_by_label("Instagram — Marque FR").check()  # no photo: Instagram will refuse it
    year = date.today().year + 1
    day.fill(f"14/07/{year}")
    page.get_by_label("Heure (Paris)").fill("9h30")
    screenshot(page, f"post-form-fr-{name}")
    width, inner = no_sideways_scroll(page)
    assert width <= inner
    page.get_by_role("button", name="Enregistrer la publication").click()
    page.get_by_test_id("object-page").wait_for()
    post_url = page.url
    assert re.search(r"/objects/\d+$", post_url)
    assert page.get_by_test_id("flash").inner_text() == "Publication enregistrée comme brouillon."
    text = page.locator("main").inner_text()
    assert f"14/07/{year} 09:30" in text and not re.search(r"\d\d:\d\d:\d\d", text)
    page.get_by_test_id("submit-object").click()
    page.wait_for_load_state("load")
    assert page.url == post_url  # not …/submit
    refusal = page.locator("[data-testid=flash][role=alert]")
    assert refusal.inner_text().startswith("Non envoyé en relecture")
    assert page.get_by_test_id("object-status").inner_text() == "Brouillon"
    screenshot(page, f"post-refused-fr-{name}")
    page.reload()
    assert page.get_by_test_id("flash").count() == 0  # said once
    # French quotes take non-breaking spaces.
    page.goto(post_url + "/edit")
    assert "Modifier «\u00a0Annonce" in page.locator("h1").inner_text()
    assert page.get_by_label("Date de publication").input_value() == f"14/07/{year}"
    assert page.get_by_label("Heure (Paris)").input_value() == "09:30"
    # "Publié" and "Échec" in distinct colours, each readable (WCAG AA: 4.5:1).
    page.goto(f"{live_server.url}/campaigns/{world.campaign_id}/board")
    published = page.get_by_test_id("column-published").get_by_test_id("count").evaluate(CONTRAST)
    failed = page.get_by_test_id("column-failed").get_by_test_id("count").evaluate(CONTRAST)
    assert published["background"] != failed["background"]
    assert published["ratio"] >= 4.5 and failed["ratio"] >= 4.5, (published, failed)
    context.close()
