"""SharePoint storage: media versions waiting on local disk for their upload, and its progress.

One `media_transfers` row per asset whose current version is not yet in the remote backend:
the staging file, the Graph upload session (URL, expiry, next byte) so that a retried message
resumes it, and a lease so that two deliveries of one message do not upload side by side.

Revision ID: 0003_sharepoint
Revises: 0002_search
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0003_sharepoint"
down_revision = "0002_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "media_transfers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("asset_id", sa.Integer(), sa.ForeignKey("media_assets.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("staging_path", sa.String(length=255), nullable=False),
        sa.Column("item_name", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("upload_url", sa.Text(), nullable=True),
        sa.Column("upload_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_offset", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade():
    op.drop_table("media_transfers")
