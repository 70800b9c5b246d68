"""Who wants what: each user's choice per event and channel, with defaults when they chose
nothing (docs/notifications.md#preferences)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Channel, NotificationEvent as E, NotificationPreference, Role

# In-app for everything; a mail at once for what needs someone soon; no digest until asked.
DEFAULTS: dict[tuple[E, Channel], bool] = {
    **{(event, Channel.IN_APP): True for event in E},
    **{(event, Channel.EMAIL): True for event in E},
    **{(event, Channel.DIGEST): False for event in E},
    (E.APPROVED, Channel.EMAIL): False,  # "published" follows within seconds
}

EVENT_LABELS = {
    E.REVIEW_REQUESTED: _l("A post waits for my review"),
    E.CHANGES_REQUESTED: _l("Changes were requested on my post"),
    E.APPROVED: _l("My post was approved"),
    E.PUBLISHED: _l("My post was published"),
    E.FAILED: _l("My post failed to publish"),
    E.MENTIONED: _l("Someone mentioned me in a conversation"),
    E.REVIEW_LINK_USED: _l("An outside reviewer used a review link"),
}
CHANNEL_LABELS = {
    Channel.IN_APP: _l("In the app"),
    Channel.EMAIL: _l("E-mail at once"),
    Channel.DIGEST: _l("Daily e-mail digest"),
}


def events_for(user) -> list[E]:
    """The events a user can receive: reviews only reach approvers (and admins)."""
    return [event for event in E if event is not E.REVIEW_REQUESTED or user.has_role(Role.APPROVER)]


def choices(user_ids: list[int]) -> dict[int, dict[tuple[E, Channel], bool]]:
    """Every user's choices, defaults filled in, in one query (for 1,000 recipients at once)."""
    chosen = {user_id: dict(DEFAULTS) for user_id in user_ids}
    if user_ids:
        for row in db.session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
        ):
            chosen[row.user_id][row.event, row.channel] = row.enabled
    return chosen


def chosen_for(event: E):
    """SQL: each user's own choices for `event` (a subquery: user_id, in_app, email, digest,
    NULL where they chose nothing), to outer-join on the recipients."""

    def pick(channel: Channel):
        chose = sa.func.bool_or(NotificationPreference.enabled)
        return chose.filter(NotificationPreference.channel == channel).label(channel.value)

    return (
        sa.select(NotificationPreference.user_id, *(pick(channel) for channel in Channel))
        .where(NotificationPreference.event == event)
        .group_by(NotificationPreference.user_id)
        .subquery()
    )


def save(user, ticked: set[tuple[str, str]]) -> None:
    """Store every event × channel of `user`: ticked ones on, the others off."""
    rows = [
        {
            "user_id": user.id,
            "event": event.value,
            "channel": channel.value,
            "enabled": (event.value, channel.value) in ticked,
        }
        for event in events_for(user)
        for channel in Channel
    ]
    db.session.execute(sa.delete(NotificationPreference).where(NotificationPreference.user_id == user.id))
    db.session.execute(sa.insert(NotificationPreference), rows)
