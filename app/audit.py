"""Write audit events; the caller's transaction commits them with the change they describe."""

from __future__ import annotations

from flask import has_request_context, request

from app.extensions import db
from app.models import AuditEvent


def record(action: str, subject, *, actor=None, comment: str | None = None, data: dict | None = None) -> AuditEvent:
    event = AuditEvent(
        action=action,
        subject_type=subject.__tablename__,
        subject_id=subject.id,
        actor_id=getattr(actor, "id", None),
        comment=comment,
        data=data or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
