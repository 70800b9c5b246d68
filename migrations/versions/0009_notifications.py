"""Notifications, preferences, the conversation on a post, Teams cards.

`notifications` holds one row per recipient and event, written in the transaction of the change
(an outbox: the mail state says what remains to send); `notification_preferences` a user's
choices per event and channel; `comments` the conversation on each post; `teams_messages` the
cards waiting for a campaign's Teams Workflows webhook (`campaigns.teams_webhook_url`).
See docs/notifications.md.

Revision ID: 0009_notifications
Revises: 0008_asset_alt_text
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0009_notifications"
down_revision = "0008_asset_alt_text"
branch_labels = None
depends_on = None

EVENTS = ("review_requested", "changes_requested", "approved", "published", "failed", "mentioned")


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _now():
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade():
    op.add_column("campaigns", sa.Column("teams_webhook_url", sa.Text(), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event", _enum("notification_event", EVENTS), nullable=False),
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"), nullable=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("in_app", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_state", _enum("mail_state", ("none", "pending", "digest", "sent", "failed")), nullable=False),
        sa.Column("mail_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        _now(),
    )
    op.create_index("ix_notifications_unread", "notifications", ["user_id"],
                    postgresql_where=sa.text("read_at IS NULL AND in_app"))
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_index("ix_notifications_mail_due", "notifications", ["mail_due_at"],
                    postgresql_where=sa.text("mail_state = 'pending'"))
    op.create_index("ix_notifications_digest", "notifications", ["user_id"],
                    postgresql_where=sa.text("mail_state = 'digest'"))
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("event", _enum("notification_event", EVENTS), primary_key=True),
        sa.Column("channel", _enum("notification_channel", ("in_app", "email", "digest")), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=True),
        _now(),
    )
    op.create_index("ix_comments_object_created", "comments", ["object_id", "created_at"])
    op.create_table(
        "teams_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"), nullable=True),
        sa.Column("event", _enum("notification_event", EVENTS), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gave_up", sa.Boolean(), server_default=sa.false(), nullable=False),
        _now(),
    )
    op.create_index(op.f("ix_teams_messages_campaign_id"), "teams_messages", ["campaign_id"])
    op.create_index("ix_teams_messages_due", "teams_messages", ["due_at"],
                    postgresql_where=sa.text("sent_at IS NULL AND NOT gave_up"))


def downgrade():
    op.drop_table("teams_messages")
    op.drop_table("comments")
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_column("campaigns", "teams_webhook_url")
