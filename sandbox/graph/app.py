"""The emulator's Flask app: blueprints plus one request pipeline shared by every route.

Pipeline, in order: label the request and count it; apply the configured delay; answer an
injected fault if one is due; require a live bearer token on ``/v1.0``. After the handler, any
request body the handler did not read is drained, so a client that is refused early reads our
error instead of a reset connection.
"""

from __future__ import annotations

import time

from flask import Flask, g, request
from werkzeug.exceptions import ClientDisconnected

from . import auth, blobs, control, drive, thumbnails, uploads
from .addressing import parse
from .auth import AadError, check_bearer
from .config import GraphEmulatorConfig
from .faults import RequestFault
from .state import GraphEmulator, current_emulator
from .wire import GraphError, request_id

GRAPH_PREFIX = "/v1.0/"
THROTTLE_MESSAGES = {
    429: "The request has been throttled",
    503: "The service is temporarily unavailable. Retry after a delay.",
}


def create_app(config: GraphEmulatorConfig | None = None) -> Flask:
    app = Flask(__name__)
    # Take Graph paths as sent: Werkzeug would otherwise redirect any "//" to a merged path.
    app.url_map.merge_slashes = False
    app.extensions["graph_emulator"] = GraphEmulator(config or GraphEmulatorConfig())
    for blueprint in (auth.bp, drive.bp, uploads.bp, blobs.bp, thumbnails.bp, control.bp):
        app.register_blueprint(blueprint)
    app.before_request(_pipeline)
    app.after_request(_finish)
    app.register_error_handler(GraphError, GraphError.to_response)
    app.register_error_handler(AadError, AadError.to_response)
    return app


def _pipeline():
    if request.blueprint == "control":
        return None
    emulator = current_emulator()
    emulator.counters.request(_label(emulator))
    pause = emulator.faults.delay_for(request.path)
    if pause:
        time.sleep(pause)
    fault = emulator.faults.take_request_fault(request.path)
    if fault is not None:
        emulator.counters.fault_served(fault.status)
        return _fault_response(fault)
    if request.path.startswith(GRAPH_PREFIX):
        check_bearer()
    return None


def _label(emulator: GraphEmulator) -> str:
    """``"GET item/content"``-style labels; parsing here also hands the target to the
    dispatcher, or the parse error, raised only once the caller has been authenticated."""
    if request.path.startswith(GRAPH_PREFIX):
        try:
            g.graph_target = parse(request.path[len(GRAPH_PREFIX) :], emulator.config)
            return f"{request.method} {g.graph_target.operation}"
        except GraphError as error:
            g.graph_target_error = error
            return f"{request.method} unmatched"
    return f"{request.method} {request.endpoint or 'unmatched'}"


def _fault_response(fault: RequestFault):
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    if request.blueprint == "auth":
        response = AadError(
            fault.status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."
        ).to_response()
        response.headers.update(headers)
        return response
    return GraphError(
        fault.status,
        THROTTLE_MESSAGES.get(fault.status, "Injected failure."),
        inner_code="throttledRequest" if fault.status == 429 else None,
        headers=headers,
    ).to_response()


def _finish(response):
    try:
        while request.stream.read(blobs.READ_SIZE):
            pass
    except (ClientDisconnected, OSError):  # the client went away: nothing left to protect
        pass
    response.headers.setdefault("request-id", request_id())
    if "client-request-id" in request.headers:
        response.headers.setdefault("client-request-id", request.headers["client-request-id"])
    return response
