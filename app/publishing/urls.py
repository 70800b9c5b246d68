"""The one rule for a post's address on a network (`external_url`), wherever it comes from:
Make's callbacks (app.hooks.callbacks) and the "settle by hand" form (app.publishing.manual).

The address is rendered as a link on the post's history, so only a plain web address may be
kept: `https://` (and `http://` in development and test, where the emulator answers with
http), a host, no credentials, no whitespace or control character anywhere (browsers drop
tabs and newlines inside a URL, so `java\\tscript:` would run as `javascript:`), visible ASCII
only (networks hand out percent-encoded addresses), at most `MAX_LENGTH` characters.
See docs/external-apis.md, "Make status callbacks".
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app

MAX_LENGTH = 2048
# Visible ASCII (! to ~) except the backslash, which browsers read as "/" in web addresses.
VISIBLE = re.compile(r"[!-\[\]-~]+")


def http_allowed() -> bool:
    """`http://` is accepted only where the app runs locally (the same test as app.config)."""
    return current_app.config.get("APP_ENV") in ("development", "test")


def safe_external_url(value, *, allow_http: bool | None = None) -> str | None:
    """`value` when it is a safe web address to show as a link, else None.

    Callers decide what an empty value means (no address) before asking; this function only
    answers whether a non-empty value may be kept. `allow_http` defaults to `http_allowed()`."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_LENGTH:
        return None
    # Visible ASCII only: no space, tab, newline, NUL, DEL, backslash, or look-alike Unicode.
    if not VISIBLE.fullmatch(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # raises ValueError on a port that is not a number in range
    except ValueError:
        return None
    schemes = ("https", "http") if (http_allowed() if allow_http is None else allow_http) else ("https",)
    if parts.scheme.lower() not in schemes or not value.lower().startswith(parts.scheme.lower() + "://"):
        return None
    if not parts.hostname or "@" in parts.netloc:
        return None
    return value
