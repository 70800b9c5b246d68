"""A version of a post per network (issue 12, point 1): `object_variants` holds, per post and
network, the overrides of text, link and media selection (NULL follows the base post), the
network's options and the crops moved for that network; `variant_media` the ordered media of a
version that has its own selection (app/models/campaigns.py).

Revision ID: 0013_object_variants
Revises: 0012_review_links
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

revision = "0013_object_variants"
down_revision = "0012_review_links"
branch_labels = None
depends_on = None

PLATFORMS = ("facebook", "instagram", "youtube", "linkedin", "x", "tiktok")


def _platform():
    return sa.Enum(*PLATFORMS, name="platform", native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table(
        "object_variants",
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("platform", _platform(), primary_key=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("media_overridden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("options", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("crops", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "variant_media",
        sa.Column("object_id", sa.Integer(), primary_key=True),
        sa.Column("platform", _platform(), primary_key=True),
        sa.Column("media_asset_id", sa.Integer(), sa.ForeignKey("media_assets.id", ondelete="RESTRICT"),
                  primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["object_id", "platform"],
                                ["object_variants.object_id", "object_variants.platform"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("position >= 0", name="position_nonnegative"),
    )
    op.create_index("ix_variant_media_media_asset_id", "variant_media", ["media_asset_id"])


def downgrade():
    op.drop_index("ix_variant_media_media_asset_id", table_name="variant_media")
    op.drop_table("variant_media")
    op.drop_table("object_variants")
