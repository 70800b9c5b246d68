"""Browser tests: the app served on loopback over committed data, driven in Debian's Chromium."""
from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.server import BackgroundServer
from tests.conftest import create_database, drop_database, make_test_app

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "browser test password"


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form of an English-speaking browser; lands on the campaigns."""
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/campaigns/", timeout=10_000)


@pytest.fixture(scope="session")
def live_app(servers):
    """A committed database of its own (the browser's requests run in other threads)."""
    from flask_migrate import upgrade

    url = create_database(servers.database_url)
    app = make_test_app(servers, url)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    drop_database(servers.database_url, url)


@pytest.fixture(scope="session")
def live_server(live_app):
    with BackgroundServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "browser tests need Debian's chromium at /usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
