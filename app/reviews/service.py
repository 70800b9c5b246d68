"""Review decisions: submit, approve (writing the outbox in the same transaction), request
changes. Every status change goes through app.workflow.transition (checked and audited).
A campaign's approval chain (app/reviews/chains.py) decides who may approve and when an
approval is the post's approval (docs/approval-chains.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app import workflow
from app.extensions import db
from app.models import (
    Approval,
    AuditEvent,
    CallbackEvent,
    CampaignScenario,
    ContentObject,
    Decision,
    MediaAsset,
    ObjectMedia,
    ObjectStatus,
    Publication,
    Role,
    SocialAccount,
    StepApproval,
    User,
    object_targets,
)
from app.models.base import utcnow
from app.publishing import outbox
from app.reviews import chains, expiry
from app.reviews.chains import DecisionRefused, StepOutcome  # noqa: F401 (the views catch and read them)


def queue_page(page: int, per_page: int = 20, user=None):
    """Objects waiting for a decision, oldest first, with their campaign in the same query;
    for `user`, only those waiting for their step of the chain, never their own posts."""
    query = (
        sa.select(ContentObject)
        .options(joinedload(ContentObject.campaign))
        .where(ContentObject.status == ObjectStatus.IN_REVIEW)
        .order_by(ContentObject.updated_at, ContentObject.id)
    )
    if user is not None:
        query = chains.queue_filter(query, user)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def queue_count(user) -> int:
    """How many posts wait for `user`'s decision (the queue's heading, updated after each one)."""
    query = chains.queue_filter(sa.select(ContentObject.id).where(ContentObject.status == ObjectStatus.IN_REVIEW), user)
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _require_review(obj: ContentObject, target: ObjectStatus) -> None:
    """A decision is taken once: the second approver of the same post is refused."""
    if obj.status is not ObjectStatus.IN_REVIEW:
        raise workflow.InvalidTransition(obj.status, target, "already decided")


def submit(obj: ContentObject, *, by) -> None:
    workflow.transition(obj, ObjectStatus.IN_REVIEW, actor=by)


def approve(obj: ContentObject, *, by) -> Approval | StepOutcome:
    """Approve what is there now: its fingerprint goes into the approval and the outbox rows.
    With an approval chain, an approval of an earlier step is recorded as such (its outcome
    returned) and only the one that completes the last step approves the post.
    DecisionRefused if the post is `by`'s own or waits for a step that is not theirs."""
    _require_review(obj, ObjectStatus.APPROVED)
    fingerprint = outbox.fingerprint(obj)
    step = chains.approve_step(obj, by=by, fingerprint=fingerprint)
    if step is not None and step.next_step is not None:
        return step
    now = utcnow()
    workflow.transition(obj, ObjectStatus.APPROVED, actor=by)
    approval = Approval(
        object_id=obj.id, decided_by_id=by.id, decision=Decision.APPROVED, fingerprint=fingerprint, created_at=now
    )
    db.session.add(approval)
    scheduled = obj.scheduled_at is not None and obj.scheduled_at > now
    # Due once the undo window has closed (or at the schedule): nothing leaves meanwhile.
    outbox.add_publications(obj, fingerprint, due_at=outbox.due_after_approval(obj, now))
    expiry.on_approved(obj)
    if scheduled:
        workflow.transition(obj, ObjectStatus.SCHEDULED)
    return approval


class UndoRefused(Exception):
    """Said to the person who pressed "Undo" (409): why the approval stays."""


@dataclass(frozen=True)
class UndoOffer:
    """What the undo bar needs: where to post, and how long it may still be pressed; `step` for
    the approval of an earlier step of a chain (what waits is the next step's notice)."""

    object_id: int
    seconds_left: float
    step: bool = False


def latest_approval(obj: ContentObject) -> Approval | None:
    return db.session.scalar(
        sa.select(Approval)
        .where(Approval.object_id == obj.id)
        .order_by(Approval.created_at.desc(), Approval.id.desc())
        .limit(1)
    )


def undo_offer(obj: ContentObject, approval: Approval | StepApproval) -> UndoOffer | None:
    left = (outbox.undo_deadline(approval.created_at) - utcnow()).total_seconds()
    return UndoOffer(obj.id, left, isinstance(approval, StepApproval)) if left > 0 else None


def own_step_approval(obj: ContentObject, user) -> StepApproval | None:
    """`user`'s latest approval of a step of `obj` (the one an undo takes back); for an outside
    reviewer (app.review_links.service.LinkReviewer), the one given through their link."""
    link_id = getattr(user, "link_id", None)
    mine = StepApproval.review_link_id == link_id if link_id is not None else StepApproval.user_id == user.id
    return db.session.scalar(
        sa.select(StepApproval)
        .where(StepApproval.object_id == obj.id, mine)
        .order_by(StepApproval.created_at.desc(), StepApproval.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class RecentApproval:
    title: str
    offer: UndoOffer


def recent_approval(user) -> RecentApproval | None:
    """`user`'s last approval if it may still be undone: the queue offers the undo again (after
    a reload, or without JavaScript, where the approval answered with a redirect)."""
    since = utcnow() - timedelta(seconds=current_app.config["APPROVAL_UNDO_S"])
    row = db.session.execute(
        sa.select(Approval, ContentObject)
        .join(ContentObject, ContentObject.id == Approval.object_id)
        .where(
            Approval.decided_by_id == user.id,
            Approval.decision == Decision.APPROVED,
            Approval.created_at > since,
            ContentObject.status.in_([ObjectStatus.APPROVED, ObjectStatus.SCHEDULED]),
        )
        .order_by(Approval.created_at.desc())
        .limit(1)
    ).first()
    step = db.session.execute(
        sa.select(StepApproval, ContentObject)
        .join(ContentObject, ContentObject.id == StepApproval.object_id)
        .where(
            StepApproval.user_id == user.id,
            StepApproval.created_at > since,
            ContentObject.status == ObjectStatus.IN_REVIEW,
        )
        .order_by(StepApproval.created_at.desc())
        .limit(1)
    ).first()
    if step is not None and (row is None or step.StepApproval.created_at > row.Approval.created_at):
        offer = undo_offer(step.ContentObject, step.StepApproval)
        return RecentApproval(step.ContentObject.title, offer) if offer else None
    offer = row and undo_offer(row.ContentObject, row.Approval)
    return RecentApproval(row.ContentObject.title, offer) if offer else None


def undo_approval(obj: ContentObject, *, by) -> int:
    """Take an approval back within APPROVAL_UNDO_S: its unsent publications are deleted and the
    post is in review again. Only its approver or an admin may; the caller holds the post's row
    lock (get_for_review), and the publications are locked after it, the order of every writer
    (app/publishing/sender.py): a publication claimed meanwhile has moved the post to
    `publishing`, which refuses the undo. Returns how many publications were withdrawn.
    A post still in review: `by`'s approval of an earlier step is taken back (`undo_step`)."""
    if obj.status is ObjectStatus.IN_REVIEW:
        undo_step(obj, by=by)
        return 0
    approval = latest_approval(obj)
    if (
        obj.status not in (ObjectStatus.APPROVED, ObjectStatus.SCHEDULED)
        or approval is None
        or approval.decision is not Decision.APPROVED
    ):
        raise UndoRefused(_l("This approval can no longer be undone: the post has moved on."))
    if approval.decided_by_id != by.id and own_step_approval(obj, by) is not None:
        last = db.session.scalar(
            sa.select(StepApproval.name)
            .where(StepApproval.object_id == obj.id)
            .order_by(StepApproval.created_at.desc())
            .limit(1)
        )
        raise _decided_since(last)  # `by` approved an earlier step; the last step's approver decided since
    if approval.decided_by_id != by.id and not by.has_role(Role.ADMIN):
        raise UndoRefused(_l("Only the person who approved this post, or an admin, can undo the approval."))
    if undo_offer(obj, approval) is None:
        raise UndoRefused(
            _l(
                "Too late to undo: the %(seconds)d seconds have passed. An editor can still "
                "unschedule the post or edit it, which sends it back to review.",
                seconds=current_app.config["APPROVAL_UNDO_S"],
            )
        )
    db.session.scalars(sa.select(Publication.id).where(Publication.object_id == obj.id).with_for_update()).all()
    withdrawn = outbox.withdraw_pending(obj)
    data = {
        "undone_approval": approval.id,
        "approved_at": approval.created_at.isoformat(),
        "approved_by": approval.decided_by_id,
        "withdrawn_publications": withdrawn,
    }
    db.session.delete(approval)  # the post needs a new decision; the audit trail keeps this one
    chains.undo_last(obj)  # the step approval that completed the chain; earlier steps stand
    expiry.clear(obj)
    _withdraw_approved_notice(obj, approval)
    workflow.transition(obj, ObjectStatus.IN_REVIEW, actor=by, comment="approval undone", data=data)
    return withdrawn


def undo_step(obj: ContentObject, *, by) -> None:
    """Take back `by`'s approval of an earlier step within APPROVAL_UNDO_S: the post waits for
    that step again and the next step's notice, held back until the window closes, is
    withdrawn. Refused (UndoRefused) once anyone has approved the post since: the next step's
    approvers have decided, and their decision stands (docs/approval-chains.md)."""
    approval = own_step_approval(obj, by)
    if approval is None:
        raise UndoRefused(_l("This approval can no longer be undone: the post has moved on."))
    if undo_offer(obj, approval) is None:
        raise UndoRefused(
            _l("Too late to undo: the %(seconds)d seconds have passed.", seconds=current_app.config["APPROVAL_UNDO_S"])
        )
    since = db.session.scalar(
        sa.select(StepApproval.name)
        .where(
            StepApproval.object_id == obj.id,
            StepApproval.id != approval.id,
            StepApproval.created_at >= approval.created_at,
        )
        .order_by(StepApproval.created_at)
        .limit(1)
    )
    if since is not None:
        raise _decided_since(since)
    chains.undo_step(obj, approval, by=by)


def _decided_since(name: str) -> UndoRefused:
    return UndoRefused(
        _l(
            "This approval can no longer be undone: %(name)s has approved the post since, and that decision stands.",
            name=name,
        )
    )


def _withdraw_approved_notice(obj: ContentObject, approval: Approval) -> None:
    """The "approved" notification of an undone approval is withdrawn: its mail and Teams card
    were due only once the undo window closes (app/notifications/events.py), so nothing of it
    has left yet; the in-app row goes with them (an older approval's window closed long ago)."""
    from app.models import NotificationEvent
    from app.notifications.events import withdraw_held

    withdraw_held(obj, NotificationEvent.APPROVED, teams=True)


def request_changes(obj: ContentObject, *, by, comment: str) -> Approval:
    comment = (comment or "").strip()
    if not comment:
        raise ValueError("a comment is required")
    _require_review(obj, ObjectStatus.CHANGES_REQUESTED)
    if chains.steps_of(obj.campaign_id):
        chains.may_decide(obj, by)
    else:
        chains.check_not_own(obj, by)
    chains.restart(obj, by=by, reason="changes requested")
    workflow.transition(obj, ObjectStatus.CHANGES_REQUESTED, actor=by, comment=comment)
    chains.sync(obj)  # out of review: waiting for no step
    approval = Approval(object_id=obj.id, decided_by_id=by.id, decision=Decision.CHANGES_REQUESTED, comment=comment)
    db.session.add(approval)
    return approval


def targets_by_object(object_ids: list[int]) -> dict[int, list[SocialAccount]]:
    """The target accounts of several objects in one query (no N+1 on the queue)."""
    rows = db.session.execute(
        sa.select(object_targets.c.object_id, SocialAccount)
        .join(CampaignScenario, CampaignScenario.id == object_targets.c.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(object_targets.c.object_id.in_(object_ids))
        .order_by(SocialAccount.platform, SocialAccount.label)
    ).all()
    grouped: dict[int, list[SocialAccount]] = {oid: [] for oid in object_ids}
    for object_id, account in rows:
        grouped[object_id].append(account)
    return grouped


def media_by_object(object_ids: list[int]) -> dict[int, list[MediaAsset]]:
    rows = db.session.execute(
        sa.select(ObjectMedia.object_id, MediaAsset)
        .join(MediaAsset, MediaAsset.id == ObjectMedia.media_asset_id)
        .where(ObjectMedia.object_id.in_(object_ids))
        .order_by(ObjectMedia.object_id, ObjectMedia.position)
    ).all()
    grouped: dict[int, list[MediaAsset]] = {oid: [] for oid in object_ids}
    for object_id, asset in rows:
        grouped[object_id].append(asset)
    return grouped


def may_read(obj: ContentObject, user) -> bool:
    """Editors (and admins) read every post; approvers read what was submitted to them, in
    review or decided since, never a draft."""
    return user.has_role(Role.EDITOR) or obj.status is not ObjectStatus.DRAFT


def get_readable(object_id: int, user, *, lock: bool = False) -> ContentObject:
    """The post `user` may read, or 404: a draft answers an approver exactly as a missing id
    does, so its existence is not revealed."""
    obj = db.session.get(ContentObject, object_id, with_for_update=lock)
    if obj is None or not may_read(obj, user):
        abort(404)
    return obj


def get_for_review(object_id: int, user) -> ContentObject:
    """The post to decide on, locked until the decision commits."""
    return get_readable(object_id, user, lock=True)


def history(obj: ContentObject):
    """Who did what to the object, and when (newest first), with the actors' names."""
    return db.session.execute(
        sa.select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.subject_type == ContentObject.__tablename__, AuditEvent.subject_id == obj.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    ).all()


def deliveries(obj: ContentObject) -> list[dict]:
    """Each target's publications (all generations) with their attempts and Make's callbacks,
    oldest first: the delivery timeline of an object, in three queries."""
    rows = db.session.execute(
        sa.select(Publication, SocialAccount)
        .join(CampaignScenario, CampaignScenario.id == Publication.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(Publication.object_id == obj.id)
        .order_by(SocialAccount.platform, Publication.generation)
    ).all()
    ids = [publication.id for publication, _ in rows]
    events: dict[int, list] = {pid: [] for pid in ids}
    for event in db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.subject_type == Publication.__tablename__, AuditEvent.subject_id.in_(ids)
        )
    ):
        events[event.subject_id].append((event.created_at, "audit", event))
    for callback in db.session.scalars(sa.select(CallbackEvent).where(CallbackEvent.publication_id.in_(ids))):
        events[callback.publication_id].append((callback.received_at, "callback", callback))
    return [
        {
            "publication": publication,
            "account": account,
            "timeline": sorted(events[publication.id], key=lambda item: item[0]),
        }
        for publication, account in rows
    ]


def reopen_after_change(object_ids: list[int], *, by, reason: str) -> list[ContentObject]:
    """What was approved changed (text edited, a media file replaced by a new version): approved
    or scheduled posts go back to review and their unsent publications are withdrawn.
    Posts already being published cannot be changed back; they are left as they are."""
    reopened = []
    objects = db.session.scalars(
        sa.select(ContentObject).where(ContentObject.id.in_(object_ids)).order_by(ContentObject.id).with_for_update()
    ).all()
    for obj in objects:
        if obj.status is ObjectStatus.IN_REVIEW:
            chains.restart(obj, by=by, reason=reason)  # what earlier steps approved has changed
        if obj.status in (ObjectStatus.APPROVED, ObjectStatus.SCHEDULED):
            chains.restart(obj, by=by, reason=reason)
            expiry.clear(obj)
            withdrawn = outbox.withdraw_pending(obj)
            workflow.transition(
                obj, ObjectStatus.IN_REVIEW, actor=by, comment=reason, data={"withdrawn_publications": withdrawn}
            )
            reopened.append(obj)
    return reopened


def objects_using_media(asset_id: int) -> list[int]:
    from app.versions import posts_using

    return list(db.session.scalars(posts_using(asset_id)))
