"""Media library: file versions, video metadata, previews and the processing failure reason.

Revision ID: 0002_media
Revises: 0002_make
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0002_media"
down_revision = "0002_make"  # chained after the sibling revision of the same day
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("storage_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("frame_rate", sa.Numeric(precision=8, scale=3), nullable=True))
        batch_op.add_column(sa.Column("video_codec", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("page_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("thumb_path", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("preview_path", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        for name in ("failure_reason", "preview_path", "thumb_path", "page_count", "video_codec",
                     "frame_rate", "storage_version", "version"):
            batch_op.drop_column(name)
