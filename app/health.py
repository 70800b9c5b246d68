"""Liveness and readiness probes (open without a login, JSON only).

A failed check answers a fixed word; what went wrong goes to the log, never to the caller.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from app.extensions import db, redis_store
from app.security import public

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def migration_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    heads = current_app.extensions.get("alembic_heads")
    if heads is None:
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["alembic_heads"] = heads
    return heads


def _check_database() -> dict:
    current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    heads = migration_heads()
    return {"ok": current == heads, "revision": sorted(current), "head": sorted(heads)}


def _check_redis() -> dict:
    return {"ok": bool(redis_store.client.ping())}


def _check_scheduler() -> dict:
    """A scheduler ticked recently (docs/operations.md): without one nothing is relayed, no
    callback applied, no stuck publication flagged. `SCHEDULER_STALE_AFTER_S` 0: not checked."""
    from app.scheduler import heartbeat_age

    stale_after = current_app.config["SCHEDULER_STALE_AFTER_S"]
    if not stale_after:
        return {"ok": True, "checked": False}
    age = heartbeat_age()
    if age is None:
        return {"ok": False, "error": "no heartbeat"}
    return {"ok": age <= stale_after, "age_s": round(age, 1)}


def _check_publications() -> dict:
    """Informational: publications sent without a callback in time, waiting for a person."""
    from app.publishing.relay import stuck_count

    return {"ok": True, "unknown": stuck_count()}


def _check_search() -> dict:
    """Never fatal: when Meilisearch is down, PostgreSQL answers searches (degraded)."""
    from app.search import engine_status

    return {"ok": True, **engine_status()}


CHECKS = {"database": _check_database, "redis": _check_redis, "search": _check_search, "scheduler": _check_scheduler}
# Reported in /readyz but never make it fail (the app still serves).
DETAILS = {"publications": _check_publications}


@bp.get("/healthz")
@public
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz():
    details = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            details[name] = check()
        except Exception:  # any failure of a dependency means "not ready"
            db.session.rollback()
            log.exception("readiness check %s failed", name)
            details[name] = {"ok": False, "error": "unavailable"}
        details[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(d["ok"] for d in details.values())
    for name, check in DETAILS.items():
        try:
            details[name] = check()
        except Exception:
            db.session.rollback()
            log.exception("readiness detail %s failed", name)
            details[name] = {"ok": False, "error": "unavailable"}
    return jsonify(status="ready" if ready else "not ready", checks=details), 200 if ready else 503
