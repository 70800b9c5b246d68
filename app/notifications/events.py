"""What a change of a post means for people: the notification rows (one per recipient and
event) and the Teams card, written in the transaction of the change, like an outbox; the
actors that mail and post them are sent after the commit (docs/notifications.md).

`on_transition` is the one hook `app.workflow.transition` calls; `on_mentions` is called by
the conversation. Approval chains, outside reviewers and undo (issue 13, points 3-5) add their
events here: a recipient list and the words of the message, nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    Channel,
    Comment,
    ContentObject,
    MailState,
    Notification,
    NotificationEvent as E,
    ObjectStatus as S,
    Publication,
    PublicationStatus,
    SocialAccount,
    TeamsMessage,
    User,
)
from app.models.base import utcnow
from app.notifications import preferences

# Which status change is which event, and whom it concerns ("author" or "approvers").
EVENTS = {
    S.IN_REVIEW: (E.REVIEW_REQUESTED, "approvers"),
    S.CHANGES_REQUESTED: (E.CHANGES_REQUESTED, "author"),
    S.APPROVED: (E.APPROVED, "author"),
    S.PUBLISHED: (E.PUBLISHED, "author"),
    S.FAILED: (E.FAILED, "author"),
}
TEAMS_EVENTS = {E.REVIEW_REQUESTED, E.APPROVED, E.PUBLISHED, E.FAILED}


def on_transition(obj: ContentObject, previous: S, target: S, *, actor=None, comment: str | None = None) -> None:
    if target is S.IN_REVIEW:
        # Submitted again: the request for changes it answered is no longer pinned.
        db.session.execute(sa.update(Comment).where(Comment.object_id == obj.id, Comment.pinned).values(pinned=False))
    if target is S.CHANGES_REQUESTED and comment:
        from app.comments import service as comments

        comments.add(obj, actor, comment, kind="changes_requested", notify=False)
    if target not in EVENTS:
        return
    event, audience = EVENTS[target]
    data = {"title": obj.title, **_details(obj, event, comment)}
    recipients = _approvers(obj, actor) if audience == "approvers" else _author(obj, actor)
    # An approval may be undone for APPROVAL_UNDO_S: its mail and card wait for the window to
    # close, and an undo withdraws them (app.reviews.service.undo_approval).
    due = _undo_window_end() if event is E.APPROVED else None
    notify(recipients, event, obj, actor=actor, data=data, due_at=due)
    if event in TEAMS_EVENTS:
        _teams(obj, event, {**data, "by": getattr(actor, "name", None)}, due_at=due)


def _undo_window_end():
    from app.publishing.outbox import undo_deadline

    return undo_deadline(utcnow())


def _details(obj: ContentObject, event: E, comment: str | None) -> dict:
    if event is E.CHANGES_REQUESTED:
        return {"comment": comment or ""}
    if event in (E.PUBLISHED, E.FAILED):
        rows = db.session.execute(
            sa.select(SocialAccount.platform, SocialAccount.label, Publication)
            .join(CampaignScenario, CampaignScenario.id == Publication.campaign_scenario_id)
            .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
            .where(Publication.object_id == obj.id)
            .order_by(SocialAccount.platform, Publication.generation)
        ).all()
        latest = {}
        for platform, label, publication in rows:  # the newest generation of each target
            latest[platform, label] = publication
        if event is E.PUBLISHED:
            return {
                "links": [
                    {"platform": p.value, "account": label, "url": pub.live_url}
                    for (p, label), pub in latest.items()
                    if pub.live_url
                ]
            }
        return {
            "reasons": [
                {"platform": p.value, "account": label, "reason": pub.last_error or ""}
                for (p, label), pub in latest.items()
                if pub.status is not PublicationStatus.PUBLISHED
            ]
        }
    return {}


def _approvers(obj: ContentObject, actor):
    """The approvers of the step the post now waits for (every approver without a chain)."""
    from app.reviews import chains

    return chains.review_recipients(obj, actor)


def _author(obj: ContentObject, actor) -> list[int]:
    if obj.author_id is None or obj.author_id == getattr(actor, "id", None):
        return []
    return [obj.author_id]


def notify(recipients, event: E, obj: ContentObject | None, *, actor=None, data: dict, due_at=None) -> list[int]:
    """One row per recipient who wants it (their choices, defaults filled in), written by one
    INSERT ... SELECT in the caller's transaction, however many recipients; the mails are
    handed to the `deliver_mail` actor after the commit in one message.
    `recipients` is a SELECT of user ids or a list of them; `due_at` holds their mails back
    until then (the relay hands them over). Returns the new rows' ids."""
    from app.tasks import by_name, send_after_commit

    deliver_mail = by_name("deliver_mail")

    if isinstance(recipients, (list, tuple, set)):
        if not recipients:
            return []
        recipients = sa.select(User.id).where(User.id.in_(list(recipients)))
    users, own = recipients.subquery(), preferences.chosen_for(event)
    in_app, email, digest = (
        sa.func.coalesce(own.c[channel.value], preferences.DEFAULTS[event, channel]) for channel in Channel
    )
    mail = sa.case((digest, MailState.DIGEST.value), (email, MailState.PENDING.value), else_=MailState.NONE.value)
    rows = (
        sa.select(
            users.c.id,
            sa.literal(event.value),
            sa.literal(getattr(obj, "id", None), sa.Integer),
            sa.literal(getattr(actor, "id", None), sa.Integer),
            sa.literal(data, JSONB),
            in_app,
            mail,
            sa.literal(due_at, sa.DateTime(timezone=True)),
            sa.func.now(),
        )
        .select_from(users)
        .outerjoin(own, own.c.user_id == users.c.id)
        .where(sa.or_(in_app, email, digest))
    )
    inserted = db.session.execute(
        sa.insert(Notification)
        .from_select(
            ["user_id", "event", "object_id", "actor_id", "data", "in_app", "mail_state", "mail_due_at", "created_at"],
            rows,
        )
        .returning(Notification.id, Notification.mail_state)
    ).all()
    to_mail = [row.id for row in inserted if row.mail_state is MailState.PENDING]
    if to_mail:  # one message; the actor splits a long list into batches (app/notifications/tasks.py)
        send_after_commit(db.session(), deliver_mail, to_mail)
    return [row.id for row in inserted]


_ANYONE = object()


def withdraw_held(obj: ContentObject, event: E, *, actor_id=_ANYONE, teams: bool = False) -> None:
    """Withdraw `event`'s notifications of `obj` still held back (`notify(..., due_at=...)`: an
    approval's, within its undo window): nothing of them has left, so the in-app rows go with
    their mails, and with `teams` the held Teams cards too. `actor_id` narrows them to the rows
    of one actor's decision (None: a decision with no user, a review link's)."""
    now = utcnow()
    held = [Notification.object_id == obj.id, Notification.event == event, Notification.mail_due_at > now]
    if actor_id is not _ANYONE:
        held.append(Notification.actor_id == actor_id)  # None: IS NULL
    db.session.execute(sa.delete(Notification).where(*held, Notification.mail_state != MailState.SENT))
    if teams:
        db.session.execute(
            sa.delete(TeamsMessage).where(
                TeamsMessage.object_id == obj.id,
                TeamsMessage.event == event,
                TeamsMessage.due_at > now,
                TeamsMessage.sent_at.is_(None),
            )
        )


def _teams(obj: ContentObject, event: E, data: dict, due_at=None) -> None:
    from app.tasks import by_name, send_after_commit

    post_to_teams = by_name("post_to_teams")

    url = db.session.scalar(sa.select(Campaign.teams_webhook_url).where(Campaign.id == obj.campaign_id))
    if not url:
        return
    message = TeamsMessage(campaign_id=obj.campaign_id, object_id=obj.id, event=event, data=data, due_at=due_at)
    db.session.add(message)
    db.session.flush()
    send_after_commit(db.session(), post_to_teams, message.id)
