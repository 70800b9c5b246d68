"""Make checks: the last result of each check against Make.

`make_checks` keeps one row per subject: the installation's doctor report (`doctor`, 0), a
social account's template check and dry run (`account`, its id), and why provisioning refused
a campaign scenario (`scenario`, its id). See app/models/make_checks.py.

Revision ID: 0007_make_doctor
Revises: 0006_reliability
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0007_make_doctor"
down_revision = "0006_reliability"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "make_checks",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("results", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("kind IN ('doctor', 'account', 'scenario')",
                           name=op.f("ck_make_checks_kind_known")),
        sa.PrimaryKeyConstraint("kind", "subject_id", name=op.f("pk_make_checks")),
    )


def downgrade():
    op.drop_table("make_checks")
