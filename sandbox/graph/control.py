"""``/_emulator``: knobs and figures for tests and benchmarks in other processes (no auth).

Every endpoint mirrors a Python call on the emulator object, so a benchmark talking HTTP and a
test holding the object drive the same machinery. Requests here are never counted, delayed or
failed by the fault knobs.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from .state import current_emulator
from .wire import json_response

bp = Blueprint("control", __name__, url_prefix="/_emulator")


@bp.get("/state")
def state():
    emulator = current_emulator()
    with emulator.lock:
        items = len(emulator.drive.items)
    return json_response(
        {
            "counters": emulator.counters.snapshot(),
            "faults": emulator.faults.snapshot(),
            "live_tokens": emulator.tokens.live_count(),
            "upload_sessions": emulator.uploads.snapshot(),
            "items": items,
        },
        content_type="application/json",
    )


@bp.post("/faults")
def set_faults():
    """Body keys (any subset)::

    {"requests": [{"status": 429, "count": 2, "retry_after": 3, "path_prefix": "/v1.0/"}],
     "fragment": {"nth": 2, "status": 503},
     "delay": {"seconds": 0.5, "path_prefix": "/v1.0/"},
     "delta_resync": {"count": 1, "code": "resyncChangesApplyDifferences"}}
    """
    faults = current_emulator().faults
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _bad_request("expected a JSON object")
    try:
        requests = body.get("requests", [])
        for spec in requests if isinstance(requests, list) else [requests]:
            faults.fail_requests(**spec)
        if "fragment" in body:
            faults.fail_fragment(**body["fragment"])
        if "delay" in body:
            faults.delay(**body["delay"])
        if "delta_resync" in body:
            faults.force_delta_resync(**body["delta_resync"])
    except (TypeError, ValueError) as error:
        return _bad_request(str(error))
    return json_response(faults.snapshot(), content_type="application/json")


@bp.delete("/faults")
def clear_faults():
    current_emulator().faults.clear()
    return Response(status=204)


@bp.post("/tokens/expire")
def expire_tokens():
    current_emulator().tokens.expire_all()
    return Response(status=204)


@bp.post("/upload-sessions/expire")
def expire_upload_sessions():
    """Expire every session, or only the one whose ``uploadUrl`` is given."""
    body = request.get_json(silent=True) or {}
    expired = current_emulator().uploads.expire(body.get("uploadUrl"))
    return json_response({"expired": expired}, content_type="application/json")


@bp.get("/counters")
def counters():
    return json_response(current_emulator().counters.snapshot(), content_type="application/json")


@bp.post("/counters/reset")
def reset_counters():
    current_emulator().counters.reset()
    return Response(status=204)


def _bad_request(message: str):
    return json_response({"error": message}, 400, content_type="application/json")
