"""app.publishing.urls.safe_external_url: the one rule for a post's address on a network,
shared by Make's callbacks and the "settle by hand" form."""

import pytest

from app.publishing.urls import MAX_LENGTH, safe_external_url

SAFE = [
    "https://www.instagram.com/p/C1a2b3",
    "https://www.linkedin.com/feed/update/urn:li:share:7012",
    "HTTPS://www.youtube.com/watch?v=abc&t=1",
    "https://x.com:8443/i/status/1",
    "https://[2001:db8::1]/p",
]
UNSAFE = [
    "javascript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/relative/path",
    "relative",
    "//evil.example/p",
    "https:evil.example",
    "https://",
    "https:///p",
    " https://www.instagram.com/p/1",
    "https://www.instagram.com/p/1 ",
    "https://a.example/\x00",
    "https://user:pass@evil.example/",
    "https://good.example\\@evil.example/",
    "https://a.example:99999/",
    "https://a.example/\u00e9t\u00e9",
    "https://a.example/\u202ep",
    "ftp://a.example/f",
    "https://a.example/" + "a" * MAX_LENGTH,
    "",
    None,
    42,
    ["https://a.example"],
]


@pytest.mark.parametrize("url", SAFE)
def test_https_addresses_are_kept_as_given(app, url):
    with app.app_context():
        assert safe_external_url(url) == url


@pytest.mark.parametrize("url", UNSAFE)
def test_anything_else_is_refused(app, url):
    with app.app_context():
        assert safe_external_url(url) is None


@pytest.mark.parametrize(
    "env, allowed", [("test", True), ("development", True), ("production", False), ("staging", False)]
)
def test_http_only_where_the_app_runs_locally(app, monkeypatch, env, allowed):
    monkeypatch.setitem(app.config, "APP_ENV", env)
    with app.app_context():
        assert (safe_external_url("http://127.0.0.1:5010/p/1") is not None) is allowed
        assert safe_external_url("https://127.0.0.1:5010/p/1") is not None


def test_the_caller_may_say_whether_http_is_allowed(app):
    with app.app_context():
        assert safe_external_url("http://a.example/p", allow_http=False) is None
        assert safe_external_url("http://a.example/p", allow_http=True) == "http://a.example/p"
