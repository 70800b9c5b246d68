"""``/_emulator/...``: inspection, fault knobs and reset, for tests and benchmarks.

These routes are not Meilisearch's: they need no key and ignore the fault knobs,
so a test can always repair the server it broke.
"""

from __future__ import annotations

from flask import Blueprint

from .errors import invalid_type
from .web import emulator, json_body

bp = Blueprint("emulator_control", __name__, url_prefix="/_emulator")


@bp.get("/state")
def state():
    """Indexes with their document counts, tasks by status, and the current faults."""
    current = emulator()
    with current.store.lock:
        indexes = {
            uid: {"primaryKey": index.primary_key, "documents": len(index.documents)}
            for uid, index in sorted(current.store.indexes.items())
        }
    return {"indexes": indexes, "tasks": current.tasks.counts_by_status(), "faults": current.faults.view()}


@bp.get("/faults")
def get_faults():
    return emulator().faults.view()


@bp.patch("/faults")
def set_faults():
    """Set knobs by name: ``{"errorCount": 2, "errorStatus": 502}``, ``{"delayMs": 400}``..."""
    changes = json_body()
    if not isinstance(changes, dict):
        raise invalid_type("bad_request", "", "an object", changes)
    emulator().faults.update(**changes)
    return emulator().faults.view()


@bp.delete("/faults")
def clear_faults():
    emulator().faults.clear()
    return emulator().faults.view()


@bp.post("/reset")
def reset():
    """Back to a fresh server: no index, no task (uids restart at 0), no fault."""
    emulator().reset()
    return "", 204
