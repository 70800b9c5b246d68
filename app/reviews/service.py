"""Review decisions: submit, approve (writing the outbox in the same transaction), request
changes. Every status change goes through app.workflow.transition (checked and audited)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app import workflow
from app.extensions import db
from app.models import Approval, ContentObject, Decision, ObjectStatus
from app.models.base import utcnow
from app.publishing import outbox



def queue_page(page: int, per_page: int = 20):
    """Objects waiting for a decision, oldest first, with their campaign in the same query."""
    query = (sa.select(ContentObject)
             .options(joinedload(ContentObject.campaign))
             .where(ContentObject.status == ObjectStatus.IN_REVIEW)
             .order_by(ContentObject.updated_at, ContentObject.id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def submit(obj: ContentObject, *, by) -> None:
    workflow.transition(obj, ObjectStatus.IN_REVIEW, actor=by)


def approve(obj: ContentObject, *, by) -> Approval:
    """Approve what is there now: its fingerprint goes into the approval and the outbox rows."""
    fingerprint = outbox.fingerprint(obj)
    workflow.transition(obj, ObjectStatus.APPROVED, actor=by)
    approval = Approval(object_id=obj.id, decided_by_id=by.id, decision=Decision.APPROVED,
                        fingerprint=fingerprint)
    db.session.add(approval)
    scheduled = obj.scheduled_at is not None and obj.scheduled_at > utcnow()
    outbox.add_publications(obj, fingerprint, due_at=obj.scheduled_at if scheduled else None)
    if scheduled:
        workflow.transition(obj, ObjectStatus.SCHEDULED)
    return approval


def request_changes(obj: ContentObject, *, by, comment: str) -> Approval:
    comment = (comment or "").strip()
    if not comment:
        raise ValueError("a comment is required")
    workflow.transition(obj, ObjectStatus.CHANGES_REQUESTED, actor=by, comment=comment)
    approval = Approval(object_id=obj.id, decided_by_id=by.id, decision=Decision.CHANGES_REQUESTED,
                        comment=comment)
    db.session.add(approval)
    return approval
