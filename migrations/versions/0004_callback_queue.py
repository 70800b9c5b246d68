"""Callbacks recorded in the request and applied by an actor.

The request only inserts the raw event (`applied_at` NULL: pending); the `apply_callback` actor
applies it and stamps `applied_at`. `requeue_at` is when the scheduler hands a still-pending
event to the actor again (its message was lost); the partial index keeps that scan to the few
pending rows. Events recorded before this revision were applied in their request.

Revision ID: 0004_callbacks
Revises: 0003_sharepoint
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0004_callbacks"
down_revision = "0003_sharepoint"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("callback_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("requeue_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE callback_events SET applied_at = received_at")
    op.create_index("ix_callback_events_pending", "callback_events", ["requeue_at"],
                    postgresql_where=sa.text("applied_at IS NULL"))


def downgrade():
    op.drop_index("ix_callback_events_pending", table_name="callback_events")
    with op.batch_alter_table("callback_events", schema=None) as batch_op:
        batch_op.drop_column("requeue_at")
        batch_op.drop_column("applied_at")
