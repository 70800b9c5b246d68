"""``/_emulator/*``: what tests and benchmarks look at and turn, without authentication.

The figure that matters most is ``posts_per_key``: a key must never be published twice,
whatever the CMS retries. ``republish_blocked`` counts the runs whose blueprint let a key
already published reach the network module (the emulator refuses to post it again; real Make
would not). ``posts_per_delivery`` catches a CMS that changes the key when it
should not.
"""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, jsonify, request

from . import core

bp = Blueprint("make_inspect", __name__, url_prefix="/_emulator")


@bp.get("/stats")
def stats():
    """Counts only, cheap enough to poll while a benchmark runs."""
    with core.current().state.read() as data:
        posts_per_key = Counter(post["idempotency_key"] for post in data["posts"])
        return jsonify(
            {
                "deliveries": len(data["deliveries"]),
                "queued": sum(len(hook["queue"]) for hook in data["hooks"].values()),
                "posts": len(data["posts"]),
                "max_posts_per_key": max(posts_per_key.values(), default=0),
                "callbacks": len(data["callbacks"]),
                "callbacks_by_status_code": _count(data["callbacks"], "status_code"),
                "executions_by_status": _count(data["executions"], "status"),
                # Runs that reached a network module with a key already published: real Make
                # would have posted again (the blueprint's lookup + filter should prevent it).
                "republish_blocked": sum(e.get("republish_blocked", 0) for e in data["executions"]),
            }
        )


@bp.get("/deliveries")
def deliveries():
    with core.current().state.read() as data:
        items = _filtered(data["deliveries"])
        return jsonify({"deliveries": items, "per_key": _count(items, "idempotency_key")})


@bp.get("/posts")
def posts():
    with core.current().state.read() as data:
        items = _filtered(data["posts"])
        per_key = _count(items, "idempotency_key")
        return jsonify(
            {
                "posts": items,
                "per_key": per_key,
                "per_delivery": _count(items, "delivery_id"),
                "max_per_key": max(per_key.values(), default=0),
            }
        )


@bp.get("/callbacks")
def callbacks():
    with core.current().state.read() as data:
        return jsonify({"callbacks": _filtered(data["callbacks"])})


@bp.get("/executions")
def executions():
    with core.current().state.read() as data:
        items = _filtered(data["executions"])
        return jsonify({"executions": items, "by_status": _count(items, "status")})


@bp.get("/knobs")
def get_knobs():
    return jsonify(core.current().knobs.as_dict())


@bp.post("/knobs")
def set_knobs():
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        return jsonify({"errors": ["send a JSON object of knob values"]}), 400
    try:
        knobs = core.current().set_knobs(changes)
    except ValueError as exc:
        return jsonify({"errors": exc.args[0]}), 400
    return jsonify(knobs.as_dict())


@bp.post("/reset")
def reset():
    core.current().reset()
    return jsonify({"reset": True})


@bp.post("/hooks/<int:hook_id>/expire")
def expire_hook(hook_id):
    """Mark a hook gone, as Make does after 120 h unattached: its URL then answers 410."""
    with core.current().state.change() as data:
        hook = data["hooks"].get(str(hook_id))
        if hook is None:
            return jsonify({"errors": [f"hook {hook_id} not found"]}), 404
        hook.update(gone=True, enabled=False)
    return jsonify({"hook": hook_id, "gone": True})


def _filtered(items: list[dict]) -> list[dict]:
    """Items matching ``?idempotency_key=`` / ``?delivery_id=`` when given."""
    wanted = {key: request.args[key] for key in ("idempotency_key", "delivery_id") if key in request.args}
    return [item for item in items if all(item.get(k) == v for k, v in wanted.items())]


def _count(items: list[dict], field: str) -> dict:
    return {str(key): count for key, count in Counter(item.get(field) for item in items).items()}
