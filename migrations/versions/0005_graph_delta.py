"""Graph delta sync: where the periodic reading of the SharePoint library's changes stopped.

One `storage_cursors` row per change feed (`graph-delta:<drive id>`), holding the next Graph
link to read; the sync locks the row (SKIP LOCKED) so that one run reads the feed at a time.
An index on `media_assets.storage_item_id`: each changed item of the feed is looked up by it.

Revision ID: 0005_graph_delta
Revises: 0004_callbacks
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0005_graph_delta"
down_revision = "0004_callbacks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "storage_cursors",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_media_assets_storage_item_id", "media_assets", ["storage_item_id"])


def downgrade():
    op.drop_index("ix_media_assets_storage_item_id", table_name="media_assets")
    op.drop_table("storage_cursors")
