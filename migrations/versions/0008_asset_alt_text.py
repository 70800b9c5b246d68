"""Asset alt text: the description of an image for people who cannot see it, sent in the
payload where a network takes it (LinkedIn `altText`), searchable, and required before
publishing when the admin setting asks for it.

Revision ID: 0008_asset_alt_text
Revises: 0007_make_doctor
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0008_asset_alt_text"
down_revision = "0007_make_doctor"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("media_assets", sa.Column("alt_text", sa.Text(), server_default="", nullable=False))


def downgrade():
    op.drop_column("media_assets", "alt_text")
