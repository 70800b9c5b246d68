"""Retention jobs on the real database: applied callbacks pruned after CALLBACK_RETENTION_DAYS
but never before twice CALLBACK_MAX_AGE_S (the webhook-id replay guard), pending ones kept; a
setting that would break the guard refused; old audit events archived to JSON lines, in batches."""

import json
from datetime import timedelta

import sqlalchemy as sa

from app import retention
from app.config import load_config
from app.extensions import db
from app.models import AuditEvent, CallbackEvent
from app.models.base import utcnow
from app.scheduler import JOBS


def _callback(name: str, age: timedelta, applied: bool) -> None:
    received = utcnow() - age
    db.session.add(
        CallbackEvent(
            webhook_id=f"{name}-{received.timestamp()}",
            outcome="applied" if applied else "pending",
            raw_body="{}",
            received_at=received,
            applied_at=received if applied else None,
        )
    )


def _callbacks() -> set[str]:
    return {w.split("-")[0] for w in db.session.scalars(sa.select(CallbackEvent.webhook_id))}


def test_applied_callbacks_go_after_the_retention_and_pending_ones_stay(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_RETENTION_DAYS", 30)
    with app.app_context():
        for n in range(5):
            _callback(f"old{n}", timedelta(days=31 + n), applied=True)
        _callback("recent", timedelta(days=29), applied=True)
        _callback("stuck", timedelta(days=60), applied=False)
        db.session.commit()
        assert retention.prune_callbacks(batch=2) == 5  # three batches
        assert _callbacks() == {"recent", "stuck"}
        assert retention.prune_callbacks() == 0


def test_callbacks_younger_than_twice_the_max_age_are_kept_whatever_the_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_RETENTION_DAYS", 1)  # (refused at start, see below)
    monkeypatch.setitem(app.config, "CALLBACK_MAX_AGE_S", 48 * 3600)
    with app.app_context():
        _callback("threedays", timedelta(days=3), applied=True)  # Make may still resend it
        _callback("fivedays", timedelta(days=5), applied=True)
        db.session.commit()
        assert retention.prune_callbacks() == 1
        assert _callbacks() == {"threedays"}


def test_a_retention_shorter_than_twice_the_max_age_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("CALLBACK_MAX_AGE_S", str(48 * 3600))
    monkeypatch.setenv("CALLBACK_RETENTION_DAYS", "3")
    errors = load_config()["CONFIG_ERRORS"]
    assert any(e.startswith("CALLBACK_RETENTION_DAYS=3 is shorter than twice CALLBACK_MAX_AGE_S") for e in errors)
    monkeypatch.setenv("CALLBACK_RETENTION_DAYS", "4")
    assert not any("CALLBACK_RETENTION_DAYS" in e for e in load_config()["CONFIG_ERRORS"])


def _audit(action: str, age: timedelta) -> None:
    db.session.add(
        AuditEvent(
            action=action, subject_type="users", subject_id=1, data={"n": action, "é": "ü"}, created_at=utcnow() - age
        )
    )


def test_audit_events_are_kept_for_ever_by_default(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ARCHIVE_DIR", str(tmp_path))
    assert app.config["AUDIT_RETENTION_DAYS"] == 0
    with app.app_context():
        _audit("ancient", timedelta(days=3000))
        db.session.commit()
        assert retention.archive_audit() == 0
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "ancient"))
            == 1
        )
    assert list(tmp_path.iterdir()) == []


def test_old_audit_events_move_to_json_lines_files_by_month_in_batches(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 90)
    with app.app_context():
        for n in range(5):
            _audit(f"old{n}", timedelta(days=100 + 40 * n))
        _audit("recent", timedelta(days=80))
        db.session.commit()
        old_ids = set(db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.action.like("old%"))))
        assert retention.archive_audit(batch=2) == 5
        left = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert "recent" in left and not any(a.startswith("old") for a in left)
    files = sorted((tmp_path / "archive").iterdir())
    lines = [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines()]
    assert {line["id"] for line in lines} == old_ids
    assert all(f.name == f"audit-{json.loads(f.read_text().splitlines()[0])['created_at'][:7]}.jsonl" for f in files)
    assert {line["action"] for line in lines} == {f"old{n}" for n in range(5)}
    assert all(line["data"]["é"] == "ü" and line["archived_at"] for line in lines)


def test_the_scheduler_runs_recovery_and_retention():
    jobs = {job.name: job.interval_key for job in JOBS}
    assert jobs["recovery"] == "RECOVERY_INTERVAL_S" and jobs["retention"] == "RETENTION_INTERVAL_S"
