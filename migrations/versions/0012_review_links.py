"""Review links for outside reviewers (issue 13, point 4): `review_links` keeps one row per link
(the hash of its secret, never the token), and the notification events gain
`review_link_used` (the CHECK constraints of the three tables that name an event are rewritten).

Revision ID: 0012_review_links
Revises: 0011_alt_text_search
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

revision = "0012_review_links"
down_revision = "0011_alt_text_search"
branch_labels = None
depends_on = None

EVENTS = ("review_requested", "changes_requested", "approved", "published", "failed", "mentioned")
NEW_EVENTS = (*EVENTS, "review_link_used")
EVENT_TABLES = ("notifications", "notification_preferences", "teams_messages")


def _events_check(events):
    for table in EVENT_TABLES:
        op.drop_constraint(op.f(f"ck_{table}_notification_event"), table, type_="check")
        listed = ", ".join(f"'{event}'" for event in events)
        op.create_check_constraint("notification_event", table, f"event IN ({listed})")


def upgrade():
    op.create_table(
        "review_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reviewer_name", sa.String(120), nullable=False),
        sa.Column("reviewer_email", sa.String(254), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(32), nullable=True),
        sa.Column("decided_name", sa.String(120), nullable=True),
        sa.Column("approval_id", sa.Integer(), sa.ForeignKey("approvals.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_review_links_object_id"), "review_links", ["object_id"])
    _events_check(NEW_EVENTS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE event = 'review_link_used'")
    op.execute("DELETE FROM notification_preferences WHERE event = 'review_link_used'")
    op.execute("DELETE FROM teams_messages WHERE event = 'review_link_used'")
    _events_check(EVENTS)
    op.drop_index(op.f("ix_review_links_object_id"), table_name="review_links")
    op.drop_table("review_links")
