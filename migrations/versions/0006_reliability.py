"""Reliability: the publish retry window, callback events that cannot apply, dry runs.

- `publications.first_attempt_at`: when the first webhook attempt of the row was made; the
  publish actor retries transient errors until `PUBLISH_RETRY_WINDOW_S` after it.
- `callback_events.attempts` / `last_error`: how many times applying the event failed and why;
  after `CALLBACK_MAX_APPLY_ATTEMPTS` the event is set aside as `could_not_apply` (shown on the
  publishing page) instead of holding its batch.
- `campaign_scenarios.verified_at`: the last signed `dry_run_ok` callback of the scenario.

Revision ID: 0006_reliability
Revises: 0005_graph_delta
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0006_reliability"
down_revision = "0005_graph_delta"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("publications", sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("callback_events", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("callback_events", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("campaign_scenarios", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("campaign_scenarios", "verified_at")
    op.drop_column("callback_events", "last_error")
    op.drop_column("callback_events", "attempts")
    op.drop_column("publications", "first_attempt_at")
