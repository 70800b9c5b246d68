"""Review decisions: submit, approve (writing the outbox in the same transaction), request
changes. Every status change goes through app.workflow.transition (checked and audited)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from app import workflow
from app.extensions import db
from app.models import (Approval, AuditEvent, CampaignScenario, ContentObject, Decision, MediaAsset,
                        ObjectMedia, ObjectStatus, SocialAccount, User, object_targets)
from app.models.base import utcnow
from app.publishing import outbox



def queue_page(page: int, per_page: int = 20):
    """Objects waiting for a decision, oldest first, with their campaign in the same query."""
    query = (sa.select(ContentObject)
             .options(joinedload(ContentObject.campaign))
             .where(ContentObject.status == ObjectStatus.IN_REVIEW)
             .order_by(ContentObject.updated_at, ContentObject.id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _require_review(obj: ContentObject, target: ObjectStatus) -> None:
    """A decision is taken once: the second approver of the same post is refused."""
    if obj.status is not ObjectStatus.IN_REVIEW:
        raise workflow.InvalidTransition(obj.status, target, "already decided")


def submit(obj: ContentObject, *, by) -> None:
    workflow.transition(obj, ObjectStatus.IN_REVIEW, actor=by)


def approve(obj: ContentObject, *, by) -> Approval:
    """Approve what is there now: its fingerprint goes into the approval and the outbox rows."""
    _require_review(obj, ObjectStatus.APPROVED)
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
    _require_review(obj, ObjectStatus.CHANGES_REQUESTED)
    workflow.transition(obj, ObjectStatus.CHANGES_REQUESTED, actor=by, comment=comment)
    approval = Approval(object_id=obj.id, decided_by_id=by.id, decision=Decision.CHANGES_REQUESTED,
                        comment=comment)
    db.session.add(approval)
    return approval


def targets_by_object(object_ids: list[int]) -> dict[int, list[SocialAccount]]:
    """The target accounts of several objects in one query (no N+1 on the queue)."""
    rows = db.session.execute(
        sa.select(object_targets.c.object_id, SocialAccount)
        .join(CampaignScenario, CampaignScenario.id == object_targets.c.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(object_targets.c.object_id.in_(object_ids))
        .order_by(SocialAccount.platform, SocialAccount.label)).all()
    grouped: dict[int, list[SocialAccount]] = {oid: [] for oid in object_ids}
    for object_id, account in rows:
        grouped[object_id].append(account)
    return grouped


def media_by_object(object_ids: list[int]) -> dict[int, list[MediaAsset]]:
    rows = db.session.execute(
        sa.select(ObjectMedia.object_id, MediaAsset)
        .join(MediaAsset, MediaAsset.id == ObjectMedia.media_asset_id)
        .where(ObjectMedia.object_id.in_(object_ids))
        .order_by(ObjectMedia.object_id, ObjectMedia.position)).all()
    grouped: dict[int, list[MediaAsset]] = {oid: [] for oid in object_ids}
    for object_id, asset in rows:
        grouped[object_id].append(asset)
    return grouped


def get_for_review(object_id: int) -> ContentObject:
    obj = db.session.get(ContentObject, object_id, with_for_update=True)
    if obj is None:
        abort(404)
    return obj


def history(obj: ContentObject):
    """Who did what to the object, and when (newest first), with the actors' names."""
    return db.session.execute(
        sa.select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.subject_type == ContentObject.__tablename__, AuditEvent.subject_id == obj.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())).all()
