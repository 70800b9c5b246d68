from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import MediaKind, MediaStatus, StorageBackend, Timestamps, enum_column

media_tags = sa.Table(
    "media_tags",
    db.metadata,
    sa.Column("media_asset_id", sa.ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))  # as typed, accents kept for display
    normalized: Mapped[str] = mapped_column(sa.String(80), unique=True)  # case and spaces folded


class MediaAsset(Timestamps, db.Model):
    __tablename__ = "media_assets"
    __table_args__ = (
        sa.Index("ix_media_assets_created_at_id", "created_at", "id"),
        sa.CheckConstraint("size_bytes >= 0", name="size_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # What the image shows, for people who cannot see it (LinkedIn `altText`); migration 0008.
    alt_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    filename: Mapped[str] = mapped_column(sa.String(255))
    mime: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[MediaKind] = mapped_column(enum_column(MediaKind, "media_kind"), index=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    storage_backend: Mapped[StorageBackend] = mapped_column(enum_column(StorageBackend, "storage_backend"))
    storage_item_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)  # the delta sync looks items up
    web_url: Mapped[str | None] = mapped_column(sa.Text)
    share_url: Mapped[str | None] = mapped_column(sa.Text)
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_s: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 3))
    status: Mapped[MediaStatus] = mapped_column(
        enum_column(MediaStatus, "media_status"), default=MediaStatus.PROCESSING
    )
    # Media library (revision 0002): file versions, what processing found and made.
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # bumped by each replacement
    storage_version: Mapped[str | None] = mapped_column(sa.String(64))  # the backend's name for it
    frame_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 3))
    video_codec: Mapped[str | None] = mapped_column(sa.String(32))
    page_count: Mapped[int | None]
    thumb_path: Mapped[str | None] = mapped_column(sa.String(255))  # relative to MEDIA_ROOT
    preview_path: Mapped[str | None] = mapped_column(sa.String(255))
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    tags: Mapped[list[Tag]] = relationship(secondary=media_tags, order_by=Tag.normalized)
    transfer: Mapped["MediaTransfer | None"] = relationship(
        back_populates="asset", cascade="all, delete-orphan", passive_deletes=True
    )


class MediaTransfer(Timestamps, db.Model):
    """A version on its way to a remote backend (revision 0003): where its bytes wait on local
    disk, and how far the upload got, so that a retried or redelivered message resumes the
    upload session instead of starting over. The row goes when the version is stored; a newer
    version of the same asset takes the row over (one transfer per asset)."""

    __tablename__ = "media_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("media_assets.id", ondelete="CASCADE"), unique=True)
    version: Mapped[int]  # the asset's version number this transfer stores
    staging_path: Mapped[str] = mapped_column(sa.String(255))  # relative to MEDIA_ROOT
    item_name: Mapped[str] = mapped_column(sa.String(255))  # the file's name in the library folder
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    upload_url: Mapped[str | None] = mapped_column(sa.Text)
    upload_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    next_offset: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # A lease, renewed with every chunk: a second delivery of the message waits for it to lapse.
    claimed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    asset: Mapped[MediaAsset] = relationship(back_populates="transfer")
