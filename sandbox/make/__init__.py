"""A strict local emulator of Make.com (API v2, custom webhooks, scenario runs).

``create_app(MakeEmulatorConfig(...))`` returns a Flask app to serve with
:class:`sandbox.server.BackgroundServer`. It offers:

* ``/api/v2/...``: the endpoints of external-apis.md §1.2, with Make's wrappers, error shape,
  ``Authorization: Token <uuid>``, scopes, pagination and the 429 switch, and the public
  ``POST /api/v2/blueprints/validate`` (``validation.py``, no token);
* ``/hook/<udid>``: the webhook gateway, whose queued items the scenario's blueprint processes
  in background threads, ending in a signed HTTP callback to the CMS (see ``flow.py`` for the
  modules it interprets and ``blueprint_example.json`` for a complete blueprint);
* ``/_emulator/...``: inspection and knobs for tests and benchmarks (see ``inspection.py``).

``python -m sandbox.make --help`` serves it from the command line.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from . import api, gateway, inspection, scenarios, validation
from .apiutil import ApiError, error_response
from .config import Knobs, MakeEmulatorConfig
from .core import EXTENSION_KEY, Emulator

__all__ = ["Knobs", "MakeEmulatorConfig", "create_app", "emulator_of"]

log = logging.getLogger(__name__)


def create_app(config: MakeEmulatorConfig | None = None) -> Flask:
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = Emulator(config or MakeEmulatorConfig())
    for blueprint in (api.bp, scenarios.bp, validation.bp, gateway.bp, inspection.bp):
        app.register_blueprint(blueprint)
    _register_error_handlers(app)
    return app


def emulator_of(app: Flask) -> Emulator:
    """The emulator behind an app, e.g. to call ``shutdown()`` when a test server stops."""
    return app.extensions[EXTENSION_KEY]


def _register_error_handlers(app: Flask) -> None:
    """Every error under ``/api/v2`` answers in Make's shape, even routing errors."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return error_response(error.status, error.detail, error.suberrors, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/api/"):
            return error_response(error.code, error.description)
        return error

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("make emulator: unexpected error on %s", request.path)
        detail = f"Emulator error: {type(error).__name__}: {error}"
        if request.path.startswith("/api/"):
            return error_response(500, detail)
        return detail, 500, {"Content-Type": "text/plain"}
