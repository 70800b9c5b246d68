"""The webhook gateway: ``POST /hook/<udid>`` queues the JSON payload and answers ``Accepted``.

Its answers are plain text, like Make's gateway (it is not the API, so no JSON error shape).
The checks run in the order a client would meet them: unknown hook 404, disabled or expired
hook 410, forced failure (knob), 429 beyond the per-hook rate, 413 beyond 5 MB, 400 for a body
that is not a JSON object, 400 when the queue is full.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from . import core
from .state import utc_now_iso

bp = Blueprint("make_gateway", __name__)


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


@bp.post("/hook/<udid>")
def receive(udid):
    emulator = core.current()
    with emulator.state.read() as data:
        hook = next((h for h in data["hooks"].values() if h["udid"] == udid), None)
        if hook is None:
            return _text(404, "There is no such webhook.")
        hook_id, usable = hook["id"], hook["enabled"] and not hook["gone"]
    if not usable:
        return _text(410, "There is no scenario listening for this webhook.")
    forced = emulator.take_fault("hook")
    if forced:
        return _text(forced, f"Forced failure {forced} (emulator knob hook_fail_status).")
    if not emulator.allow_hook_call(hook_id):
        return _text(429, "Too many requests.")
    limit = emulator.config.max_payload_bytes
    if (request.content_length or 0) > limit:
        return _text(413, "Payload too large.")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        return _text(413, "Payload too large.")
    try:
        payload = json.loads(raw) if request.is_json else None
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return _text(400, "The emulator accepts a JSON object sent as application/json.")
    with emulator.state.change() as data:
        hook = data["hooks"].get(str(hook_id))
        if hook is None:
            return _text(404, "There is no such webhook.")
        if len(hook["queue"]) >= hook["queueLimit"]:
            return _text(400, "Queue is full.")
        hook["queue"].append(payload)
        data["deliveries"].append(
            {
                "hook_id": hook_id,
                "scenario_id": hook["scenarioId"],
                "idempotency_key": payload.get("idempotency_key"),
                "delivery_id": payload.get("delivery_id"),
                "bytes": len(raw),
                "received_at": utc_now_iso(),
            }
        )
    emulator.runner.dispatch(hook_id)
    return _text(200, "Accepted")
