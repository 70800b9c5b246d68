"""Approvals that expire at the scheduled moment (Hootsuite's rule), a campaign setting
(docs/approval-chains.md, "Expiring approvals").

In such a campaign, approving a scheduled post makes the approval valid until the moment it
was scheduled for (`ApprovalProgress.expires_at`). Moving it earlier keeps the approval (the
validity shrinks to the new moment); moving it later, or anything that has not started to
publish `APPROVAL_EXPIRY_GRACE_S` after that moment, needs a new decision: the post goes back
to review (the scheduler's `approval_expiry` job, app/scheduler.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import ApprovalProgress, ApprovalSettings, ContentObject, ObjectStatus
from app.models.base import utcnow


def on_approved(obj: ContentObject) -> datetime | None:
    """Called with the post's final approval: until when it holds (None: no expiry)."""
    expires = (
        obj.scheduled_at
        if obj.scheduled_at is not None
        and db.session.scalar(
            sa.select(ApprovalSettings.expires_at_schedule).where(ApprovalSettings.campaign_id == obj.campaign_id)
        )
        else None
    )
    progress = db.session.get(ApprovalProgress, obj.id)
    if progress is None and expires is None:
        return None
    if progress is None:
        progress = ApprovalProgress(object_id=obj.id)
        db.session.add(progress)
    progress.expires_at = expires
    return expires


def clear(obj: ContentObject) -> None:
    progress = db.session.get(ApprovalProgress, obj.id)
    if progress is not None:
        progress.expires_at = None


def allows_move(obj: ContentObject, moment: datetime) -> bool:
    """Whether the post's approval still holds at `moment`; an earlier moment shortens it."""
    progress = db.session.get(ApprovalProgress, obj.id)
    if progress is None or progress.expires_at is None:
        return True
    if moment > progress.expires_at:
        return False
    progress.expires_at = moment
    return True


def expire_due(limit: int = 200) -> int:
    """Approved posts whose approval has expired and that have not started to publish go back
    to review (their unsent publications withdrawn). Returns how many."""
    from app.reviews.service import reopen_after_change

    cutoff = utcnow() - timedelta(seconds=current_app.config["APPROVAL_EXPIRY_GRACE_S"])
    ids = list(
        db.session.scalars(
            sa.select(ContentObject.id)
            .join(ApprovalProgress, ApprovalProgress.object_id == ContentObject.id)
            .where(
                ContentObject.status.in_([ObjectStatus.APPROVED, ObjectStatus.SCHEDULED]),
                ApprovalProgress.expires_at < cutoff,
            )
            .order_by(ContentObject.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    reopened = reopen_after_change(ids, by=None, reason="approval expired at the scheduled moment")
    db.session.commit()
    return len(reopened)
