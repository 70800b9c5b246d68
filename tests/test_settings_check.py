"""Settings checked at start: strict booleans and numbers in every environment, the production
rules, every problem named at once, `flask check-config`, and a key rotation that keeps
sessions, CSRF tokens, invitations and signed media links valid (SECRET_KEY_FALLBACKS)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from app import ConfigurationError
from app.config import load_config, signing_keys
from app.settings_check import problems, resolve_defaults
from tests.conftest import make_test_app
from tests.media_support import EN, editor, image, media_root, upload  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "APP_ENV": "production",
    "SECRET_KEY": secrets.token_hex(32),
    "PUBLIC_BASE_URL": "https://cms.example.org",
    "MAKE_CALLBACK_SECRET": secrets.token_hex(16),
    "STORAGE_BACKEND": "local",
    "SESSION_COOKIE_SECURE": True,
    "HSTS_ENABLED": True,
    "WTF_CSRF_SSL_STRICT": True,
}


def production_app(servers, test_database, **settings):
    return make_test_app(servers, test_database, **{**GOOD, **settings})


def refusal(servers, test_database, **settings) -> str:
    with pytest.raises(ConfigurationError) as refused:
        production_app(servers, test_database, **settings)
    return str(refused.value)


# --- Values read strictly, in every environment ----------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_boolean_words(monkeypatch, raw, expected):
    monkeypatch.setenv("HSTS_ENABLED", raw)
    config = load_config()
    assert config["HSTS_ENABLED"] is expected and config["CONFIG_ERRORS"] == []


def test_a_misspelt_boolean_stops_the_app_in_any_environment(servers, test_database, monkeypatch):
    """ "ture" used to mean False: now it is refused, naming the variable, even in development."""
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "ture")
    with pytest.raises(ConfigurationError, match=r"SESSION_COOKIE_SECURE='ture' is not a boolean"):
        make_test_app(servers, test_database, APP_ENV="development")


@pytest.mark.parametrize(
    "name,raw,words",
    [
        ("SESSION_IDLE_TIMEOUT", "30m", "is not a whole number"),
        ("PUBLISH_RETRY_WINDOW_S", "6h", "is not a whole number"),
        ("SCHEDULER_RELAY_INTERVAL_S", "fast", "is not a number"),
        ("GRAPH_DELTA_INTERVAL_S", "1 minute", "is not a number"),
    ],
)
def test_numbers_are_strict(servers, test_database, monkeypatch, name, raw, words):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigurationError, match=f"{name}='{raw}' {words}"):
        make_test_app(servers, test_database)


def test_every_problem_is_named_at_once(servers, test_database, monkeypatch):
    monkeypatch.setenv("HSTS_ENABLED", "ture")
    monkeypatch.setenv("LOGIN_WINDOW_SECONDS", "15min")
    message = refusal(
        servers, test_database, PUBLIC_BASE_URL="http://127.0.0.1:5000", MAKE_CALLBACK_SECRET=None, SECRET_KEY="dev"
    )
    assert message.startswith("5 setting problem(s), the process does not start")
    for name in ("HSTS_ENABLED", "LOGIN_WINDOW_SECONDS", "PUBLIC_BASE_URL", "MAKE_CALLBACK_SECRET", "SECRET_KEY"):
        assert f"  - {name}" in message, name


# --- Production rules ----------------------------------------------------------------------------


def test_a_sound_production_configuration_starts(servers, test_database):
    app = production_app(servers, test_database)
    assert problems(app.config) == []


@pytest.mark.parametrize(
    "url,words",
    [
        ("http://cms.example.org", "must be https"),
        ("https://127.0.0.1:8443", "loopback"),
        ("https://localhost", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://0.0.0.0", "loopback or unspecified"),
        ("https://", "names no host"),
    ],
)
def test_the_public_address(servers, test_database, url, words):
    assert words in refusal(servers, test_database, PUBLIC_BASE_URL=url)


@pytest.mark.parametrize(
    "secret,words",
    [
        (None, "MAKE_CALLBACK_SECRET is not set"),
        ("x" * 23, "MAKE_CALLBACK_SECRET is 23 bytes: at least 24"),
        ("é" * 11, "MAKE_CALLBACK_SECRET is 22 bytes"),
    ],
)
def test_the_callback_secret(servers, test_database, secret, words):
    assert words in refusal(servers, test_database, MAKE_CALLBACK_SECRET=secret)


def test_the_previous_callback_secret_too_when_set(servers, test_database):
    message = refusal(servers, test_database, MAKE_CALLBACK_SECRET_PREVIOUS="short")
    assert "MAKE_CALLBACK_SECRET_PREVIOUS is 5 bytes" in message


@pytest.mark.parametrize(
    "key,words",
    [
        ("s3cr3t", "SECRET_KEY is 6 characters: at least 32"),
        ("ab" * 20, "repeats too few characters"),
        ("change-me-to-something-long-and-unique", "placeholder"),
        ("my-production-secret-key-2026-for-the-cms", "placeholder"),
    ],
)
def test_the_signing_key(servers, test_database, key, words):
    assert words in refusal(servers, test_database, SECRET_KEY=key)


def test_the_current_key_is_not_a_fallback(servers, test_database):
    key = secrets.token_hex(32)
    assert "holds the current SECRET_KEY" in refusal(servers, test_database, SECRET_KEY=key, SECRET_KEY_FALLBACKS=[key])


def test_sharepoint_settings_complete(servers, test_database):
    message = refusal(
        servers,
        test_database,
        STORAGE_BACKEND="sharepoint",
        GRAPH_TENANT_ID="t",
        GRAPH_CLIENT_ID=None,
        GRAPH_CLIENT_SECRET=None,
        GRAPH_DRIVE_ID="b!x",
    )
    assert "STORAGE_BACKEND=sharepoint needs GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET" in message


@pytest.mark.parametrize(
    "settings,words",
    [
        ({"APP_ENV": "prod"}, "APP_ENV='prod' is not one of production, development, test"),
        ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND='s3' is not one of local, sharepoint"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
        ({"SCHEDULER_HEARTBEAT_S": 10.0, "SCHEDULER_STALE_AFTER_S": 5.0}, "SCHEDULER_HEARTBEAT_S (10.0)"),
    ],
)
def test_other_values_refused(servers, test_database, settings, words):
    assert words in refusal(servers, test_database, **settings)


def test_the_production_rules_do_not_apply_in_development(servers, test_database):
    app = make_test_app(
        servers,
        test_database,
        APP_ENV="development",
        SECRET_KEY="dev",
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        MAKE_CALLBACK_SECRET=None,
    )
    assert problems(app.config) == []


# --- flask check-config ----------------------------------------------------------------------


def test_check_config_lists_every_check(servers, test_database):
    app = production_app(servers, test_database)
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "configuration ok"
    assert all(line.startswith("ok  ") for line in lines[:-1])
    for name in ("PUBLIC_BASE_URL", "MAKE_CALLBACK_SECRET", "SECRET_KEY", "DATABASE_URL", "APP_ENV"):
        assert any(line.startswith(f"ok    {name}") for line in lines), name


def _environment(**settings) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APP_", "MAKE_", "GRAPH_", "SECRET_", "PUBLIC_", "SESSION_"))
    }
    return {**env, "FLASK_APP": "wsgi.py", **settings}


def test_check_config_from_the_shell_names_each_problem(servers, test_database):
    """With a broken production environment the app still loads under `flask` (a warning), so
    the command can list the problems, one per line, and exit 1."""
    env = _environment(
        APP_ENV="production",
        SECRET_KEY="short",
        DATABASE_URL=test_database,
        REDIS_URL=servers.redis_url,
        PUBLIC_BASE_URL="http://cms.example.org",
        HSTS_ENABLED="ture",
        MAKE_CALLBACK_SECRET=secrets.token_hex(16),
    )
    done = subprocess.run(
        [sys.executable, "-m", "flask", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "FAIL  HSTS_ENABLED='ture' is not a boolean (use one of 1, true, yes, on, 0, false, no, off)" in lines
    assert "FAIL  PUBLIC_BASE_URL='http://cms.example.org' must be https (Make and the networks fetch from it)" in lines
    assert any(line.startswith("FAIL  SECRET_KEY is 5 characters") for line in lines)
    assert any(line.startswith("ok    MAKE_CALLBACK_SECRET") for line in lines)
    assert lines[-1] == "3 problem(s)"


def test_demo_seed_refuses_outside_development(app, runner):
    result = runner.invoke(args=["demo", "seed", "--no-social"])
    assert result.exit_code != 0
    assert "seeded only with APP_ENV=development (this is test)" in result.output


def test_demo_seed_in_development(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "development")
    result = runner.invoke(args=["demo", "seed", "--no-social"])
    assert result.exit_code == 0 and "demo data" in result.output


# --- Key rotation ----------------------------------------------------------------------------

NEW_KEY = secrets.token_hex(32)


def rotate(app, monkeypatch, *fallbacks):
    old = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", list(fallbacks))
    rotated = {"SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": list(fallbacks), "APP_ENV": "test"}
    resolve_defaults(rotated)  # what create_app derives for the forms' CSRF tokens
    monkeypatch.setitem(app.config, "WTF_CSRF_SECRET_KEY", rotated.get("WTF_CSRF_SECRET_KEY"))
    return old


def test_the_forms_verify_with_every_key_and_sign_with_the_new_one():
    config = {"SECRET_KEY": "new", "SECRET_KEY_FALLBACKS": ["older", "old"], "APP_ENV": "test"}
    resolve_defaults(config)
    assert config["WTF_CSRF_SECRET_KEY"] == signing_keys(config) == ["older", "old", "new"]


@pytest.fixture
def signed_before_rotation(app, client, editor, media_root):
    """A logged-in editor, a page's CSRF token, a signed media link and an invitation, all
    made with the key in use before the rotation."""
    from app.auth import service as accounts
    from app.extensions import db
    from app.media.links import signed_media_url
    from app.models import MediaAsset, Role
    from tests.conftest import csrf_token

    data = image("jpeg")
    asset_id = upload(client, data, "affiche.jpg").get_json()["id"]
    with app.app_context():
        link = "/" + signed_media_url(db.session.get(MediaAsset, asset_id)).split("/", 3)[3]
        invited = accounts.create_user("invited@example.org", "Invited", Role.EDITOR)
        db.session.commit()
        invitation = accounts.invitation_token(invited)
    return {"csrf": csrf_token(client, "/"), "link": link, "data": data, "invitation": invitation}


def test_old_sessions_links_and_invitations_stay_valid_during_a_rotation(
    app, client, monkeypatch, signed_before_rotation
):
    from app.auth import service as accounts

    made = signed_before_rotation
    rotate(app, monkeypatch, app.config["SECRET_KEY"])
    assert client.get("/media/").status_code == 200  # the session cookie
    switched = client.post("/language", data={"lang": "fr"}, headers={"X-CSRFToken": made["csrf"]})
    assert switched.status_code == 303  # a form opened before
    served = app.test_client().get(made["link"])  # a link already sent to Make
    assert served.status_code == 200 and served.data == made["data"]
    with app.app_context():
        assert accounts.user_for_invitation(made["invitation"]).email == "invited@example.org"


def test_without_the_old_key_they_stop(app, client, monkeypatch, signed_before_rotation):
    from app.auth import service as accounts

    made = signed_before_rotation
    rotate(app, monkeypatch)
    assert client.get("/media/").status_code in (302, 303)  # back to the login page
    assert app.test_client().get(made["link"]).status_code == 404
    with app.app_context(), pytest.raises(accounts.AccountError):
        accounts.user_for_invitation(made["invitation"])
