"""Retention: the scheduler keeps `callback_events` and `audit_events` from growing for ever.

- Applied Make callbacks received more than `CALLBACK_RETENTION_DAYS` (30) ago are deleted.
  The rows are also the `webhook-id` replay guard (app/hooks): Make's retries resend a run's
  first signed timestamp, accepted for `CALLBACK_MAX_AGE_S`, so a row younger than twice that
  is never deleted whatever the setting (and the setting is refused at start, app/config.py).
  Callbacks not applied (pending, set aside) are kept: they are work or evidence.
- With `AUDIT_RETENTION_DAYS` > 0, audit events older than that are archived: appended as JSON
  lines (one event per line, every column, `archived_at` added) to `audit-YYYY-MM.jsonl` in
  `AUDIT_ARCHIVE_DIR` (instance/audit-archive by default), by the month the event happened,
  the file flushed to disk, then the rows deleted. A crash between the two leaves the rows in
  place and the next run appends them again: a line may appear twice, with the same `id`
  (readers keep the last one per id). 0, the default, keeps them in the database for ever.

Both work in batches of `BATCH` rows, each in a short transaction of its own (SKIP LOCKED, so
no request waits behind them), oldest first (docs/operations.md).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import AuditEvent, CallbackEvent
from app.models.base import utcnow

log = logging.getLogger(__name__)
BATCH = 1000


def callback_cutoff():
    """Applied callbacks received before this may go: the retention, never less than twice
    the oldest signed timestamp the endpoint accepts."""
    config = current_app.config
    keep = max(timedelta(days=config["CALLBACK_RETENTION_DAYS"]), timedelta(seconds=2 * config["CALLBACK_MAX_AGE_S"]))
    return utcnow() - keep


def prune_callbacks(batch: int = BATCH) -> int:
    """Delete the applied callbacks past their retention; the number deleted."""
    cutoff, total = callback_cutoff(), 0
    while True:
        doomed = (
            sa.select(CallbackEvent.id)
            .where(CallbackEvent.applied_at.is_not(None), CallbackEvent.received_at < cutoff)
            .order_by(CallbackEvent.received_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        deleted = db.session.execute(
            sa.delete(CallbackEvent)
            .where(CallbackEvent.id.in_(doomed.scalar_subquery()))
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch:
            break
    if total:
        log.info("retention: %d applied callbacks received before %s deleted", total, cutoff.isoformat())
    return total


def archive_dir() -> Path:
    configured = current_app.config.get("AUDIT_ARCHIVE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-archive"


def _line(event: AuditEvent, archived_at: str) -> str:
    row = {column.name: getattr(event, column.key) for column in AuditEvent.__table__.columns}
    row["created_at"] = event.created_at.isoformat()
    row["archived_at"] = archived_at
    return json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)


def archive_audit(batch: int = BATCH) -> int:
    """Move the audit events past `AUDIT_RETENTION_DAYS` to the archive files; the number moved
    (0 when the setting is 0)."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    if days <= 0:
        return 0
    cutoff, folder, total = utcnow() - timedelta(days=days), archive_dir(), 0
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.created_at < cutoff)
            .order_by(AuditEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not events:
            db.session.commit()
            break
        archived_at = utcnow().isoformat()
        by_month: dict[str, list[str]] = {}
        for event in events:
            by_month.setdefault(event.created_at.strftime("%Y-%m"), []).append(_line(event, archived_at))
        for month, lines in by_month.items():
            with open(folder / f"audit-{month}.jsonl", "a", encoding="utf-8") as archive:
                archive.write("\n".join(lines) + "\n")
                archive.flush()
                os.fsync(archive.fileno())
        db.session.execute(
            sa.delete(AuditEvent)
            .where(AuditEvent.id.in_([e.id for e in events]))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        total += len(events)
        if len(events) < batch:
            break
    if total:
        log.info("retention: %d audit events before %s archived to %s", total, cutoff.isoformat(), folder)
    return total


def run() -> dict[str, int]:
    """The scheduler's job (`RETENTION_INTERVAL_S`)."""
    return {"callbacks_deleted": prune_callbacks(), "audit_archived": archive_audit()}
