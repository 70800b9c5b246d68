"""Security headers on pages, fragments, errors and JSON; cookie flags; CSP fits the templates."""

import re
from pathlib import Path

import pytest


TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"


def _assert_hardened(response):
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "default-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path,headers",
    [
        ("/login", {}),
        ("/campaigns/", {"HX-Request": "true"}),
        ("/campaigns/", {}),
        ("/nowhere", {}),
        ("/healthz", {}),
    ],
)
def test_headers_everywhere(client, auth, path, headers):
    auth.login("editor")
    _assert_hardened(client.get(path, headers=headers))


def test_scripts_carry_the_request_nonce(client):
    response = client.get("/login")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script[^>]*>", response.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in tag and "src=" in tag for tag in scripts)
    assert client.get("/login").headers["Content-Security-Policy"] != response.headers["Content-Security-Policy"]


def test_templates_hold_no_inline_script_style_or_handlers():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), template
        assert "hx-on" not in text, template


def test_htmx_is_configured_for_the_csp(client):
    html = client.get("/login").get_data(as_text=True)
    config = re.search(r'name="htmx-config" content=\'([^\']+)\'', html).group(1)
    for setting in (
        '"allowEval": false',
        '"includeIndicatorStyles": false',
        '"selfRequestsOnly": true',
        '"allowScriptTags": false',
    ):
        assert setting in config


def test_production_cookies_and_hsts(servers, test_database, monkeypatch):
    """Outside local dev (APP_ENV unset means production) cookies are Secure and HSTS is sent."""
    from app import create_app

    monkeypatch.delenv("APP_ENV", raising=False)
    # Settings a production start accepts (app/settings_check.py refuses weak or local ones).
    app = create_app(
        {
            "SECRET_KEY": "Qm9uam91ciBsZXMgdGVzdHMgZGUgcHJvZHVjdGlvbiAyMDI2",
            "SQLALCHEMY_DATABASE_URI": test_database,
            "REDIS_URL": servers.redis_url,
            "PUBLIC_BASE_URL": "https://cms.example.org",
            "MAKE_CALLBACK_SECRET": "un-secret-de-rappel-assez-long-2026",
        }
    )
    response = app.test_client().get("/login", base_url="https://cms.example.org")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_local_dev_cookie_is_httponly_lax(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" not in client.get("/login").headers
