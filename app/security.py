"""Access rules and response hardening shared by every blueprint.

Every view declares who may call it: `@public` or `@role_required(...)`. A view that declares
nothing is refused (default deny), and the authorization test walks the URL map to prove it.
"""

from __future__ import annotations

import secrets
from functools import wraps

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_login import current_user

from app.models import Role

ACCESS_ATTR = "_access_rule"


def public(view):
    """Open without a login (login page, health checks, signed callbacks and media links)."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def role_required(*roles: Role):
    """Require a logged-in user holding one of `roles`; admins pass every guard."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_redirect()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, frozenset(roles))
        return wrapped

    return decorator


ANY_USER = (Role.ADMIN, Role.EDITOR, Role.APPROVER)


def login_redirect():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):
        # htmx would swap the login page into a fragment; make it navigate instead.
        return "", 401, {"HX-Redirect": target}
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error="authentication required"), 401
    return redirect(target)


def access_rule(endpoint: str | None):
    if endpoint is None:
        return None
    if endpoint == "static":
        return "public"
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def may_open(path: str, user) -> bool:
    """Whether `user` may GET `path` (used to drop a post-login target they cannot open)."""
    from werkzeug.exceptions import HTTPException

    try:
        endpoint, _ = current_app.url_map.bind("").match(path.split("?", 1)[0], method="GET")
    except HTTPException:
        return False
    rule = access_rule(endpoint)
    return rule == "public" or (rule is not None and user.has_role(*rule))


def enforce_declared_access():
    """before_request: refuse any route that forgot to declare its access rule."""
    if request.endpoint is not None and access_rule(request.endpoint) is None:
        current_app.logger.error("route %s declares no access rule", request.endpoint)
        abort(403)


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def set_security_headers(response):
    nonce = csp_nonce()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["HSTS_ENABLED"]:
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if _signed_in():
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _signed_in() -> bool:
    """Whether a signed-in user made the request. A request without a login session (Make's
    callbacks, health checks) cannot be one, so no user is loaded for it: no Redis lookup,
    no identifier hashing on the hot public routes."""
    if "_user_id" not in session:
        return False
    return bool(current_user and getattr(current_user, "is_authenticated", False))
