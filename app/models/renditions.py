"""A file derived from one version of a media asset for one network profile (revision 0010).

One row per (asset, asset version, profile, crop): every post that needs the same file reuses
it. `profile` names the network and a digest of its media rules (app/renditions/service.py),
so a change of the rules makes new renditions instead of serving files made for the old ones.
The bytes live in the storage backend that holds the asset (`storage_item_id` /
`storage_version`); a row whose asset goes is deleted with it and its file is swept as an
orphan (app/media/sweeper.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import StorageBackend, StrEnum, Timestamps, enum_column


class RenditionStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class Rendition(Timestamps, db.Model):
    __tablename__ = "renditions"
    __table_args__ = (sa.UniqueConstraint("asset_id", "asset_version", "profile", "crop", name="uq_renditions_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("media_assets.id", ondelete="CASCADE"), index=True)
    asset_version: Mapped[int]
    profile: Mapped[str] = mapped_column(sa.String(64))  # e.g. instagram-3f2a9c1b
    crop: Mapped[str] = mapped_column(sa.String(32), default="auto", server_default="auto")
    status: Mapped[RenditionStatus] = mapped_column(
        enum_column(RenditionStatus, "rendition_status"), default=RenditionStatus.PENDING
    )
    storage_backend: Mapped[StorageBackend] = mapped_column(enum_column(StorageBackend, "storage_backend"))
    storage_item_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    storage_version: Mapped[str | None] = mapped_column(sa.String(64))
    mime: Mapped[str | None] = mapped_column(sa.String(100))
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_s: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 3))
    frame_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 3))
    changes: Mapped[dict | None] = mapped_column(sa.JSON)  # what was done: resized, converted...
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    made_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def ready(self) -> bool:
        return self.status is RenditionStatus.READY


class FocalPoint(db.Model):
    """Where the subject of one version of an asset is (fractions of its width and height as
    shown): crops are made around it. A replaced file starts again from the centre."""

    __tablename__ = "asset_focal_points"

    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True)
    asset_version: Mapped[int] = mapped_column(primary_key=True)
    x: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3))
    y: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3))
