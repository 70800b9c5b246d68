"""Notifications (one row per recipient and event, written with the change: an outbox), each
user's choices per event and channel, the conversation on a post, and the Teams cards waiting
to be posted. See docs/notifications.md."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import StrEnum, enum_column, utcnow


class NotificationEvent(StrEnum):
    REVIEW_REQUESTED = "review_requested"  # a post waits for my review (approvers)
    CHANGES_REQUESTED = "changes_requested"  # on my post
    APPROVED = "approved"  # my post
    PUBLISHED = "published"  # my post, with its links
    FAILED = "failed"  # my post, with the reason
    MENTIONED = "mentioned"  # someone @mentioned me in a conversation
    REVIEW_LINK_USED = "review_link_used"  # an outside reviewer decided through a link (app/review_links)


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    DIGEST = "digest"  # e-mail, once a day, instead of one mail per event


class MailState(StrEnum):
    NONE = "none"  # no mail for this one (the recipient's choice)
    PENDING = "pending"  # to send (now, or at `mail_due_at` after an SMTP error)
    DIGEST = "digest"  # waits for the daily digest
    SENT = "sent"
    FAILED = "failed"  # given up after NOTIFY_MAIL_MAX_ATTEMPTS; the reason is kept


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # The unread count on every page: an index-only count of one user's unread rows.
        sa.Index("ix_notifications_unread", "user_id", postgresql_where=sa.text("read_at IS NULL AND in_app")),
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
        sa.Index("ix_notifications_mail_due", "mail_due_at", postgresql_where=sa.text("mail_state = 'pending'")),
        sa.Index("ix_notifications_digest", "user_id", postgresql_where=sa.text("mail_state = 'digest'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[NotificationEvent] = mapped_column(enum_column(NotificationEvent, "notification_event"))
    # Not indexed: posts are archived, never deleted, and each index slows the 1,000-row inserts.
    object_id: Mapped[int | None] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # What the message needs when it is read or mailed later: title, comment, reason, links.
    data: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    in_app: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    mail_state: Mapped[MailState] = mapped_column(enum_column(MailState, "mail_state"), default=MailState.NONE)
    mail_due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    mail_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    mail_error: Mapped[str | None] = mapped_column(sa.Text)
    mailed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )


class NotificationPreference(db.Model):
    """A user's choice for one event and channel; no row means the default (NOTIFY_DEFAULTS)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[NotificationEvent] = mapped_column(
        enum_column(NotificationEvent, "notification_event"), primary_key=True
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "notification_channel"), primary_key=True)
    enabled: Mapped[bool]


class Comment(db.Model):
    """A message in the conversation on a post. The "request changes" comment is pinned first
    until the post is submitted again."""

    __tablename__ = "comments"
    __table_args__ = (sa.Index("ix_comments_object_created", "object_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    pinned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # "changes_requested" for the approver's request; None for a plain message.
    kind: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )


class TeamsMessage(db.Model):
    """A card to post to a campaign's Teams Workflows webhook (an outbox row, like mails)."""

    __tablename__ = "teams_messages"
    __table_args__ = (
        sa.Index("ix_teams_messages_due", "due_at", postgresql_where=sa.text("sent_at IS NULL AND NOT gave_up")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[int | None] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"))
    event: Mapped[NotificationEvent] = mapped_column(enum_column(NotificationEvent, "notification_event"))
    data: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    gave_up: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )
