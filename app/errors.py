"""Error pages in the user's language; htmx requests get a small fragment instead."""

from __future__ import annotations

import redis
from flask import current_app, g, jsonify, make_response, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from app.extensions import db, login_manager
from app.rendering import render

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    409: _l("This action conflicts with the current state. Reload the page and try again."),
    413: _l("The file or request is too large."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on our side. Your data was not changed; try again."),
    503: _l("The service is temporarily unavailable. Try again in a moment; nothing you saved was lost."),
}
# Seconds a client is told to wait when Redis (sessions, login throttling) does not answer.
RETRY_AFTER_S = 5


def _error_response(status: int, message):
    if request.accept_mimetypes.best == "application/json" or request.path.startswith(("/healthz", "/readyz")):
        return jsonify(error=str(message)), status
    return render("errors/error.html", block="error", status=status, code=status, message=message)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _error_response(
            400,
            _l(
                "Your form expired or was sent from elsewhere. "
                "Reload the page and try again; what you typed is kept "
                "in the page you came from."
            ),
        )

    for code in MESSAGES:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: _error_response(code, MESSAGES[code]))

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return _error_response(500, MESSAGES[500])

    @app.errorhandler(redis.exceptions.RedisError)
    def redis_unavailable(exc):
        """Redis down or stalled (connection refused, timeout: REDIS_*_TIMEOUT_S). Sessions and
        login throttling live there, so the request cannot go on: say so in the user's language.
        The page is drawn as for a visitor who is not logged in, so drawing it (navigation,
        language) asks nothing more of Redis."""
        current_app.logger.warning("Redis unavailable during %s %s: %s", request.method, request.path, exc)
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()
        response = make_response(_error_response(503, MESSAGES[503]))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
