"""Reusable pieces for the composer (issue 12, point 5): hashtag groups and text snippets.

Revision ID: 0015_composer_library
Revises: 0014_approval_chains
Create Date: 2026-12-06

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0015_composer_library"
down_revision = "0014_approval_chains"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
