"""Approval chains (issue 13, point 3): ordered steps per campaign, their approvers and rules.

Revision ID: 0014_approval_chains
Revises: 0013_object_variants
Create Date: 2026-12-06

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0014_approval_chains"
down_revision = "0013_object_variants"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
