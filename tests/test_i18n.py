"""French by default, English available, and the French catalog complete for every page."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent


def test_french_catalog_covers_every_message_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "app/translations/fr/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="fr")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert wanted - translated == set(), "untranslated: run `make translations` and translate"
    assert len(wanted) > 80


def test_french_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in html and "Se connecter" in html


def test_english_from_the_browser(client):
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html


def test_language_switch_is_kept_for_the_user(app, client, auth):
    auth.login("editor")
    response = client.post(
        "/language", data={"lang": "en", "next": "/campaigns/", "csrf_token": csrf_token(client, "/campaigns/")}
    )
    assert response.headers["Location"] == "/campaigns/"
    assert "No campaigns yet" in client.get("/campaigns/").get_data(as_text=True)
    # A new session of the same user keeps the choice (stored on the account).
    other = app.test_client()
    other.post(
        "/login",
        data={"email": auth.email, "password": "correct horse battery staple", "csrf_token": csrf_token(other)},
    )
    assert "No campaigns yet" in other.get("/campaigns/").get_data(as_text=True)
