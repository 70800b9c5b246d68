"""Browser tests: the app served on loopback over committed data, driven in Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.server import BackgroundServer
from tests.conftest import create_migrated_database, drop_database, make_test_app

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "browser test password"


def real_errors(errors: list[str]) -> list[str]:
    """The console errors that say something is wrong: without the 404s a test provokes, and
    without htmx's report of a request the browser aborted because the page was navigating
    away (a live preview or counter still in flight when the form is submitted), which htmx
    logs as `htmx:sendAbort` and its `htmx:afterRequest`."""
    return [e for e in errors if "status of 404" not in e and not e.startswith(("htmx:sendAbort", "htmx:afterRequest"))]


# The last keystroke in a text box -> a counter list showing the expected figure, and each counting
# request's round trip, in the page's own clock (performance.now()).
_COUNTER_WATCH = """([box, list, expected, path]) => {
  window.__count = {requests: []};
  document.getElementById(box).addEventListener("input", () => {
    window.__count.typed = performance.now(); window.__count.shown = 0; });
  document.body.addEventListener("htmx:beforeRequest", e => {
    if (e.detail.requestConfig.path.endsWith(path)) window.__count.sent = performance.now(); });
  document.body.addEventListener("htmx:afterRequest", e => {
    if (e.detail.requestConfig.path.endsWith(path))
      window.__count.requests.push(performance.now() - window.__count.sent); });
  new MutationObserver(() => {
    if (document.getElementById(list).textContent.includes(expected) && !window.__count.shown)
      window.__count.shown = performance.now();
  }).observe(document.getElementById(list), {childList: true, subtree: true, characterData: true});
}"""


class CounterWatch:
    """Watches a live character counter: start it, type, then read `latency()` (milliseconds
    from the last keystroke in `box` to `#list` showing `expected`) and `requests()` (the round
    trip of each request to a URL ending in `path` meanwhile)."""

    def __init__(self, page, box: str, list_: str, expected: str, path: str = "/objects/count"):
        self.page, self.list, self.expected = page, list_, expected
        page.evaluate(_COUNTER_WATCH, [box, list_, expected, path])

    def latency(self) -> float:
        self.page.locator(f"#{self.list} li", has_text=self.expected).wait_for(timeout=5_000)
        timing = self.page.evaluate("window.__count")
        return timing["shown"] - timing["typed"]

    def requests(self) -> list[float]:
        return self.page.evaluate("window.__count.requests")


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
    url = create_migrated_database(servers)
    app = make_test_app(servers, url)
    _LIVE.append(app)
    yield app
    _LIVE.remove(app)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    drop_database(servers.database_url, url)


_LIVE = []  # the live app, once a module has asked for it


@pytest.fixture(scope="module", autouse=True)
def empty_live_database():
    """Every module finds the live app's database as the migrations leave it: whatever a module
    committed (users, campaigns, posts in review, media whose files lived in its own folder) is
    removed when it ends, after its own fixtures have stopped their workers. Otherwise the next
    modules see them: the approver's queue shows twenty posts per page oldest first, the library
    lists assets whose thumbnails are gone (404s). `search_words` is derived by triggers that
    TRUNCATE does not fire, so it is emptied with the rest."""
    yield
    if not _LIVE:
        return
    import sqlalchemy as sa

    from app.extensions import db

    with _LIVE[0].app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        names = db.session.scalars(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        ).all()
        assert set(tables) <= set(names), set(tables) - set(names)
        db.session.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
        db.session.execute(sa.text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))
        db.session.commit()


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
