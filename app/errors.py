"""Error pages in the user's language; htmx requests get a small fragment instead."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from app.extensions import db
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
}


def _error_response(status: int, message):
    if request.accept_mimetypes.best == "application/json" or request.path.startswith(("/healthz", "/readyz")):
        return jsonify(error=str(message)), status
    return render("errors/error.html", block="error", status=status, code=status, message=message)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _error_response(400, _l("Your form expired or was sent from elsewhere. "
                                       "Reload the page and try again; what you typed is kept "
                                       "in the page you came from."))

    for code in MESSAGES:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: _error_response(code, MESSAGES[code]))

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return _error_response(500, MESSAGES[500])
