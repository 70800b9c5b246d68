"""A version of a post per network (issue 12, point 1): overrides of text, link and media, network options and crops.

Revision ID: 0013_object_variants
Revises: 0012_review_links
Create Date: 2026-12-06

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0013_object_variants"
down_revision = "0012_review_links"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
