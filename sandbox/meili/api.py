"""The application factory and what applies to every request: faults, auth, errors."""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import control, routes, routes_read
from .config import MeiliEmulatorConfig
from .errors import MeiliError, error_body, not_emulated
from .faults import FaultKnobs
from .state import Store
from .tasks import TaskQueue
from .web import EXTENSION_KEY, emulator as _emulator

log = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)
# Real Meilisearch routes the CMS does not use: answered 501 rather than a puzzling 404.
NOT_EMULATED_ROUTE = re.compile(
    r"^/(indexes/[^/]+(/facet-search|/similar)?|multi-search|swap-indexes|dumps|snapshots|"
    r"version|stats|metrics|export|experimental-features|network|"
    r"(keys|batches|webhooks|tasks)(/[^/]+)?)$"
)


class MeiliEmulator:
    """One emulated server: indexes, the task queue and its worker, the fault knobs."""

    def __init__(self, config: MeiliEmulatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.faults = FaultKnobs(config.task_delay_ms)
        self.tasks = TaskQueue(self.store, self.faults)

    def reset(self) -> None:
        self.faults.clear()
        self.tasks.reset()
        self.store.reset()

    def close(self) -> None:
        """Stop the task worker thread."""
        self.tasks.stop()


def create_app(config: MeiliEmulatorConfig | None = None) -> Flask:
    """A Flask app speaking Meilisearch's HTTP API; its task worker is already running.

    The emulator object is ``app.extensions["meili_emulator"]``; call its ``close()``
    when done (``sandbox.meili.start_meili_emulator`` does it for you).
    """
    config = config or MeiliEmulatorConfig()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.payload_limit_bytes
    app.json.sort_keys = False  # facet values are ordered: keep the order built
    app.json.ensure_ascii = False
    emulator = MeiliEmulator(config)
    app.extensions[EXTENSION_KEY] = emulator
    app.register_blueprint(routes.bp)
    app.register_blueprint(routes_read.bp)
    app.register_blueprint(control.bp)
    app.before_request(_apply_faults)
    app.before_request(_authenticate)
    _register_error_handlers(app, config)
    emulator.tasks.start()
    return app


def _apply_faults():
    """Emulated slowness and outages; the control routes stay usable."""
    if request.path.startswith(control.bp.url_prefix):
        return None
    faults = _emulator().faults
    delay = faults.response_delay(request.path)
    if delay:
        time.sleep(delay)
    status = faults.take_request_error(request.path)
    if status is not None:
        raise MeiliError(status, "internal", f"Emulated fault: the server answered {status}.", "internal")
    return None


def _authenticate():
    master_key = _emulator().config.master_key
    if master_key is None or request.path in OPEN_PATHS or request.path.startswith(control.bp.url_prefix):
        return None  # open mode ignores Authorization (the client sends "Bearer None")
    header = request.headers.get("Authorization")
    if header is None:
        raise MeiliError(
            401,
            "missing_authorization_header",
            "The Authorization header is missing. It must use the bearer authorization method.",
            "auth",
        )
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or token != master_key:
        raise MeiliError(403, "invalid_api_key", "The provided API key is invalid.", "auth")
    return None


def _register_error_handlers(app: Flask, config: MeiliEmulatorConfig) -> None:
    @app.errorhandler(MeiliError)
    def meili_error(error: MeiliError):
        response = jsonify(error.body())
        response.status_code = error.status
        if error.status == 503:
            response.headers["Retry-After"] = "10"  # what Meilisearch sends with a 503
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def payload_too_large(_error):
        return meili_error(
            MeiliError(
                413,
                "payload_too_large",
                "The provided payload reached the size limit. The maximum "
                f"accepted payload size is {_binary_size(config)}.",
            )
        )

    @app.errorhandler(HTTPException)
    def unrouted(error: HTTPException):
        if NOT_EMULATED_ROUTE.match(request.path):
            return meili_error(not_emulated(f"`{request.method} {request.path}`"))
        return Response(status=error.code)  # Meilisearch answers unknown routes bodiless

    @app.errorhandler(Exception)
    def emulator_bug(error: Exception):
        log.exception("meili emulator error")
        response = jsonify(error_body("internal", f"Emulator error: {error!r}", "internal"))
        response.status_code = 500
        return response


def _binary_size(config: MeiliEmulatorConfig) -> str:
    """The limit as Meilisearch words it, in binary units (100 MB -> 95.37 MiB)."""
    size = float(config.payload_limit_bytes)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            break
        size /= 1024
    else:
        unit = "GiB"
    return f"{size:.2f}".rstrip("0").rstrip(".") + f" {unit}"
