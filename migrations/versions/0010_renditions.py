"""Renditions: files derived from an asset version for a network profile, and the focal point of
each asset version their crops are made around (app/models/renditions.py).

Revision ID: 0010_renditions
Revises: 0009_notifications
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

revision = "0010_renditions"
down_revision = "0009_notifications"
branch_labels = None
depends_on = None


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table(
        "renditions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("asset_id", sa.Integer(), sa.ForeignKey("media_assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asset_version", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("crop", sa.String(32), server_default="auto", nullable=False),
        sa.Column("status", _enum("rendition_status", ("pending", "ready", "failed")), nullable=False),
        sa.Column("storage_backend", _enum("storage_backend", ("local", "sharepoint")), nullable=False),
        sa.Column("storage_item_id", sa.String(255), nullable=True),
        sa.Column("storage_version", sa.String(64), nullable=True),
        sa.Column("mime", sa.String(100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Numeric(10, 3), nullable=True),
        sa.Column("frame_rate", sa.Numeric(8, 3), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("asset_id", "asset_version", "profile", "crop", name="uq_renditions_key"),
    )
    op.create_index("ix_renditions_asset_id", "renditions", ["asset_id"])
    op.create_table(
        "asset_focal_points",
        sa.Column("asset_id", sa.Integer(), sa.ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("asset_version", sa.Integer(), primary_key=True),
        sa.Column("x", sa.Numeric(4, 3), nullable=False),
        sa.Column("y", sa.Numeric(4, 3), nullable=False),
    )
    op.create_index("ix_renditions_storage_item_id", "renditions", ["storage_item_id"])


def downgrade():
    op.drop_table("asset_focal_points")
    op.drop_index("ix_renditions_storage_item_id", table_name="renditions")
    op.drop_index("ix_renditions_asset_id", table_name="renditions")
    op.drop_table("renditions")
