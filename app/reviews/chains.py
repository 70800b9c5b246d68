"""Approval chains (docs/approval-chains.md): where a post in review stands in its campaign's
ordered steps, who may decide it now, and the step approvals that move it along.

A campaign without steps behaves as before: one decision by any approver. With steps, an
approval completes the step it was given for (rule "any") or counts towards it (rule "all");
the post waits at the first step not complete. `ApprovalProgress.step_id` keeps that step so
the queue can filter in SQL; `sync` recomputes it after every change. Only the last step's
completion is the post's approval (app.reviews.service.approve writes the outbox then).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload

from app import audit
from app.extensions import db
from app.models import (
    ApprovalProgress,
    ApprovalSettings,
    ApprovalStep,
    ContentObject,
    ObjectStatus,
    ReviewLink,
    Role,
    StepApproval,
    StepRule,
    User,
    approval_step_approvers,
)
from app.models.base import utcnow

MAX_STEPS = 10
NAMES_SHOWN = 3


class DecisionRefused(Exception):
    """Said to the person who tried to decide (403/409): why this decision is not theirs."""


def self_approval_allowed() -> bool:
    return bool(current_app.config["ALLOW_SELF_APPROVAL"])


def steps_of(campaign_id: int, *, with_users: bool = True) -> list[ApprovalStep]:
    """The campaign's steps in order. `with_users=False` leaves each step's named approvers
    unread: deciding and notifying ask the database for ids (`approver_ids`) instead of
    loading every named user (a step may name a thousand)."""
    query = sa.select(ApprovalStep).where(ApprovalStep.campaign_id == campaign_id)
    if not with_users:
        query = query.options(lazyload(ApprovalStep.users))
    return list(db.session.scalars(query.order_by(ApprovalStep.position, ApprovalStep.id)))


def settings_of(campaign_id: int) -> ApprovalSettings:
    return db.session.get(ApprovalSettings, campaign_id) or ApprovalSettings(
        campaign_id=campaign_id, expires_at_schedule=False
    )


def _is_author(obj: ContentObject, user) -> bool:
    return obj.author_id is not None and getattr(user, "id", None) == obj.author_id


def check_not_own(obj: ContentObject, user) -> None:
    if _is_author(obj, user) and not self_approval_allowed():
        raise DecisionRefused(_l("You wrote this post: someone else must decide on it."))


def _role_holders(roles) -> dict:
    holders = {role: [] for role in roles}
    if holders:
        for user in db.session.scalars(sa.select(User).where(User.active, User.role.in_(list(holders)))):
            holders[user.role].append(user)
    return holders


def approver_ids(step: ApprovalStep, author_id: int | None):
    """`approvers_of` as a SELECT of user ids, for what needs only ids (the notification rows,
    written by one INSERT ... SELECT, and rule "all"), whatever the number of approvers."""
    named = sa.select(approval_step_approvers.c.user_id).where(approval_step_approvers.c.step_id == step.id)
    chosen = User.id.in_(named) if step.role is None else sa.or_(User.id.in_(named), User.role == step.role)
    query = sa.select(User.id).where(User.active, chosen)
    if author_id is not None and not self_approval_allowed():
        query = query.where(User.id != author_id)
    return query


def approvers_of(step: ApprovalStep, obj: ContentObject, holders: dict | None = None) -> list[User]:
    """The people whose approval the step asks for: its named users and the holders of its
    role, active, without the post's author (unless self-approval is allowed). Their names
    are shown (`position`); `approver_ids` says who they are in SQL."""
    people = {user.id: user for user in step.users if user.active}
    if step.role is not None:
        for user in (holders if holders is not None else _role_holders([step.role]))[step.role]:
            people[user.id] = user
    if not self_approval_allowed():
        people.pop(obj.author_id, None)
    return sorted(people.values(), key=lambda user: user.name)


def is_step_approver(step: ApprovalStep, user) -> bool:
    """Named, holding the step's role, or an admin (admins pass every guard, app/security.py)."""
    if getattr(user, "id", None) is None:
        return False
    if user.has_role(Role.ADMIN) or (step.role is not None and user.role is step.role):
        return True
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    approval_step_approvers.c.step_id == step.id, approval_step_approvers.c.user_id == user.id
                )
            )
        )
    )


def _active_links(object_ids):
    now = utcnow()
    return db.session.scalars(
        sa.select(ReviewLink)
        .where(
            ReviewLink.object_id.in_(object_ids),
            ReviewLink.step_id.is_not(None),
            ReviewLink.used_at.is_(None),
            ReviewLink.revoked_at.is_(None),
            ReviewLink.expires_at > now,
        )
        .order_by(ReviewLink.id)
    ).all()


def _pending_links(obj: ContentObject, step: ApprovalStep, links=None) -> list[ReviewLink]:
    links = _active_links([obj.id]) if links is None else links
    return [link for link in links if link.object_id == obj.id and link.step_id == step.id]


def approvals_of(obj: ContentObject) -> list[StepApproval]:
    return list(
        db.session.scalars(
            sa.select(StepApproval)
            .where(StepApproval.object_id == obj.id)
            .order_by(StepApproval.created_at, StepApproval.id)
        )
    )


def _complete(step: ApprovalStep, obj: ContentObject, approvals: list[StepApproval], holders=None, links=None) -> bool:
    given = [a for a in approvals if a.step_id == step.id]
    if not given:
        return False
    if step.rule is StepRule.ANY:
        return True
    approved = {a.user_id for a in given if a.user_id is not None}
    answered = {a.review_link_id for a in given}
    if [link for link in _pending_links(obj, step, links) if link.id not in answered]:
        return False
    if holders is not None:  # positions of many posts: the role holders are read already
        return {user.id for user in approvers_of(step, obj, holders)} <= approved
    waiting = approver_ids(step, obj.author_id).where(User.id.not_in(sorted(approved)))
    return not db.session.scalar(sa.select(sa.exists(waiting)))


def current_step(
    obj: ContentObject,
    steps: list[ApprovalStep] | None = None,
    approvals: list[StepApproval] | None = None,
    holders=None,
    links=None,
) -> ApprovalStep | None:
    """The first step not complete; None when there is no chain or every step is done."""
    steps = steps_of(obj.campaign_id, with_users=False) if steps is None else steps
    approvals = approvals_of(obj) if approvals is None else approvals
    return next((step for step in steps if not _complete(step, obj, approvals, holders, links)), None)


def sync(obj: ContentObject) -> ApprovalStep | None:
    """Record the step `obj` waits for (None outside review or without a chain)."""
    step = current_step(obj) if obj.status is ObjectStatus.IN_REVIEW else None
    progress = db.session.get(ApprovalProgress, obj.id)
    if progress is None:
        if step is None:
            return None
        progress = ApprovalProgress(object_id=obj.id)
        db.session.add(progress)
    progress.step_id = step.id if step else None
    return step


def restart(obj: ContentObject, *, by=None, reason: str) -> int:
    """The chain starts again from its first step (changes requested, the post edited or
    submitted again): its step approvals go, the audit trail keeps them."""
    given = approvals_of(obj)
    if given:
        audit.record(
            "approval_chain_restarted",
            obj,
            actor=by,
            comment=reason,
            data={
                "step_approvals": [
                    {
                        "step": a.step_id,
                        "by": a.user_id,
                        "link": a.review_link_id,
                        "name": a.name,
                        "at": a.created_at.isoformat(),
                    }
                    for a in given
                ]
            },
        )
        db.session.execute(sa.delete(StepApproval).where(StepApproval.object_id == obj.id))
    sync(obj)
    return len(given)


def _drop_stale(obj: ContentObject, fingerprint: str, by) -> None:
    """An approval counts for the content it saw: if the post changed since (a new version of
    one of its files, a network's version edited), the chain starts again."""
    if any(a.fingerprint != fingerprint for a in approvals_of(obj)):
        restart(obj, by=by, reason="content changed since an earlier step approved it")


def after_edit(obj: ContentObject, *, by) -> None:
    """A post in review was edited: if an earlier step approved other content, the chain
    starts again now (the queue moves it back to the first step's approvers at once)."""
    if obj.status is ObjectStatus.IN_REVIEW and approvals_of(obj):
        from app.publishing import outbox

        _drop_stale(obj, outbox.fingerprint(obj), by)


@dataclass
class StepOutcome:
    approval: StepApproval
    step: ApprovalStep
    next_step: ApprovalStep | None  # None: the chain is complete, the post is approved


def may_decide(obj: ContentObject, user) -> ApprovalStep | None:
    """The step `user` would decide now (None without a chain); DecisionRefused if none."""
    check_not_own(obj, user)
    step = current_step(obj)
    if step is None:
        return None
    link_id = getattr(user, "link_id", None)
    if link_id is not None:
        link = db.session.get(ReviewLink, link_id)
        if link.step_id is not None and link.step_id != step.id:
            raise DecisionRefused(_l("This post is not at your step any more."))
        return step
    if not is_step_approver(step, user):
        raise DecisionRefused(_l("This post waits for the step “%(step)s”, which is not yours.", step=step.name))
    return step


def approve_step(obj: ContentObject, *, by, fingerprint: str) -> StepOutcome | None:
    """Record `by`'s approval of the step the post waits for. None without a chain (the caller
    approves the post as before); otherwise the outcome, whose `next_step` is None when this
    approval completed the last step."""
    if not steps_of(obj.campaign_id, with_users=False):
        check_not_own(obj, by)
        return None
    _drop_stale(obj, fingerprint, by)
    step = may_decide(obj, by)
    if step is None:  # every step done already (should not stay so): let the final approval go
        return None
    user_id = getattr(by, "id", None)
    if user_id is not None and db.session.scalar(
        sa.select(StepApproval.id).where(
            StepApproval.object_id == obj.id, StepApproval.step_id == step.id, StepApproval.user_id == user_id
        )
    ):
        raise DecisionRefused(_l("You already approved this step."))
    approval = StepApproval(
        object_id=obj.id,
        step_id=step.id,
        user_id=user_id,
        review_link_id=getattr(by, "link_id", None),
        name=by.name,
        fingerprint=fingerprint,
        created_at=utcnow(),
    )
    db.session.add(approval)
    db.session.flush()
    next_step = current_step(obj)
    audit.record(
        "step_approved",
        obj,
        actor=by,
        data={
            "step": step.id,
            "step_name": step.name,
            "name": by.name,
            "link": approval.review_link_id,
            "next_step": next_step.id if next_step else None,
        },
    )
    sync(obj)
    if next_step is not None and next_step.id != step.id:
        _ask(obj, next_step, by, due_at=_undo_window_end(approval))
    return StepOutcome(approval, step, next_step)


def _undo_window_end(approval: StepApproval):
    """A step approval may be undone for APPROVAL_UNDO_S (app.reviews.service.undo_approval):
    the next step's mails wait for the window to close, as the "approved" notice does."""
    from app.publishing.outbox import undo_deadline

    return undo_deadline(approval.created_at)


def _ask(obj: ContentObject, step: ApprovalStep, actor, due_at=None) -> None:
    from app.models import NotificationEvent
    from app.notifications.events import notify

    notify(
        _recipients(step, obj, actor),
        NotificationEvent.REVIEW_REQUESTED,
        obj,
        actor=actor,
        data={"title": obj.title, "step": step.name},
        due_at=due_at,
    )


def _recipients(step: ApprovalStep, obj: ContentObject, actor):
    """The step's approvers but the one who acted, as a SELECT: `notify` writes their rows in
    one INSERT ... SELECT, so a step with a thousand approvers costs the request one statement
    (docs/notifications.md)."""
    query = approver_ids(step, obj.author_id)
    actor_id = getattr(actor, "id", None)
    return query.where(User.id != actor_id) if actor_id is not None else query


def undo_step(obj: ContentObject, approval: StepApproval, *, by) -> None:
    """Take back a step approval that did not complete the chain (its undo window is checked by
    the caller): the post waits for that step again, the audit trail keeps the approval, and the
    next step's "waits for your review", still held back by the window, is withdrawn."""
    from app.models import NotificationEvent
    from app.notifications.events import withdraw_held

    audit.record(
        "step_approval_undone",
        obj,
        actor=by,
        data={
            "step": approval.step_id,
            "by": approval.user_id,
            "name": approval.name,
            "at": approval.created_at.isoformat(),
        },
    )
    withdraw_held(obj, NotificationEvent.REVIEW_REQUESTED, actor_id=approval.user_id)
    db.session.delete(approval)
    db.session.flush()
    sync(obj)


def undo_last(obj: ContentObject) -> None:
    """An undone approval takes back the step approval that completed the chain."""
    last = db.session.scalar(
        sa.select(StepApproval)
        .where(StepApproval.object_id == obj.id)
        .order_by(StepApproval.created_at.desc(), StepApproval.id.desc())
        .limit(1)
    )
    if last is not None:
        db.session.delete(last)


def review_recipients(obj: ContentObject, actor):
    """Whom "a post waits for your review" concerns when `obj` enters review: its current
    step's approvers, or every approver without a chain (never the author, unless allowed)."""
    step = sync(obj)
    if step is not None:
        return _recipients(step, obj, actor)
    query = sa.select(User.id).where(User.active, User.role == Role.APPROVER, User.id != getattr(actor, "id", None))
    if obj.author_id is not None and not self_approval_allowed():
        query = query.where(User.id != obj.author_id)
    return query


def queue_filter(query, user):
    """The review queue of `user`: posts without a chain, and those waiting for a step of
    theirs that they have not approved yet; never their own (unless self-approval is allowed)."""
    query = query.outerjoin(ApprovalProgress, ApprovalProgress.object_id == ContentObject.id)
    if not self_approval_allowed():
        query = query.where(sa.or_(ContentObject.author_id.is_(None), ContentObject.author_id != user.id))
    if user.has_role(Role.ADMIN):
        return query
    named = sa.exists().where(
        approval_step_approvers.c.step_id == ApprovalProgress.step_id, approval_step_approvers.c.user_id == user.id
    )
    by_role = sa.exists().where(ApprovalStep.id == ApprovalProgress.step_id, ApprovalStep.role == user.role)
    done = sa.exists().where(
        StepApproval.object_id == ContentObject.id,
        StepApproval.step_id == ApprovalProgress.step_id,
        StepApproval.user_id == user.id,
    )
    return query.where(sa.or_(ApprovalProgress.step_id.is_(None), sa.and_(sa.or_(named, by_role), ~done)))


@dataclass
class Position:
    """Where a post in review stands: "Step 2/2: Legal — waiting for Marie, Paul"."""

    index: int
    total: int
    name: str
    waiting: list[str] = field(default_factory=list)

    def label(self) -> str:
        names = self.waiting[:NAMES_SHOWN]
        more = len(self.waiting) - len(names)
        if more > 0:
            names.append(str(_l("%(num)d more", num=more)))
        if not names:
            return str(_l("Step %(index)d/%(total)d: %(name)s", index=self.index, total=self.total, name=self.name))
        return str(
            _l(
                "Step %(index)d/%(total)d: %(name)s — waiting for %(names)s",
                index=self.index,
                total=self.total,
                name=self.name,
                names=", ".join(names),
            )
        )


@dataclass(frozen=True)
class _Post:
    """What a position needs of a post (a board card's row has no author id)."""

    id: int
    campaign_id: int
    author_id: int | None


@dataclass
class _Campaign:
    """What positions need for every post in review of one campaign, read in a few queries
    whatever their number (a board of 500 cards)."""

    steps: list[ApprovalStep]
    approvals: dict[int, list[StepApproval]]
    holders: dict
    links: list[ReviewLink]
    authors: dict[int, int | None]  # post id -> author id (the board's rows carry no author id)

    @classmethod
    def load(cls, campaign_id: int) -> "_Campaign | None":
        steps = steps_of(campaign_id)
        if not steps:
            return None
        authors = dict(
            db.session.execute(
                sa.select(ContentObject.id, ContentObject.author_id).where(
                    ContentObject.campaign_id == campaign_id, ContentObject.status == ObjectStatus.IN_REVIEW
                )
            ).all()
        )
        in_review = list(authors)
        approvals: dict[int, list[StepApproval]] = {}
        for approval in db.session.scalars(
            sa.select(StepApproval)
            .where(StepApproval.object_id.in_(in_review))
            .order_by(StepApproval.created_at, StepApproval.id)
        ):
            approvals.setdefault(approval.object_id, []).append(approval)
        return cls(
            steps,
            approvals,
            _role_holders({step.role for step in steps if step.role is not None}),
            list(_active_links(in_review)),
            authors,
        )


def position(obj: ContentObject, known: _Campaign | None = None) -> Position | None:
    if obj.status is not ObjectStatus.IN_REVIEW:
        return None
    known = known or _Campaign.load(obj.campaign_id)
    if known is None or obj.id not in known.authors:
        return None
    obj = _Post(obj.id, obj.campaign_id, known.authors[obj.id])
    approvals = known.approvals.get(obj.id, [])
    step = current_step(obj, known.steps, approvals, known.holders, known.links)
    if step is None:
        return None
    approved = {a.user_id for a in approvals if a.step_id == step.id}
    waiting = [user.name for user in approvers_of(step, obj, known.holders) if user.id not in approved]
    waiting += [link.reviewer_name for link in _pending_links(obj, step, known.links)]
    return Position(known.steps.index(step) + 1, len(known.steps), step.name, waiting)


def preload(campaign_ids) -> None:
    """Before a list of posts from many campaigns (the queue): one query says which campaigns
    have a chain, so those without one cost nothing more."""
    campaigns = g.setdefault("chain_campaigns", {})
    wanted = set(campaign_ids) - set(campaigns)
    if wanted:
        chained = set(
            db.session.scalars(
                sa.select(ApprovalStep.campaign_id).distinct().where(ApprovalStep.campaign_id.in_(wanted))
            )
        )
        campaigns.update({campaign_id: None for campaign_id in wanted - chained})


def position_label(obj: ContentObject) -> str | None:
    """For templates (post page, board and review cards): each campaign's chain is read once
    per request, then every post's position comes from it."""
    if obj.status is not ObjectStatus.IN_REVIEW:
        return None
    campaigns = g.setdefault("chain_campaigns", {})
    if obj.campaign_id not in campaigns:
        campaigns[obj.campaign_id] = _Campaign.load(obj.campaign_id)
    found = position(obj, campaigns[obj.campaign_id]) if campaigns[obj.campaign_id] else None
    return found.label() if found else None
