"""Where a periodic reading of a storage backend's change feed stopped (revision 0005)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class StorageCursor(db.Model):
    """One row per feed, e.g. `graph-delta:<drive id>`: the Graph link to read next (a nextLink
    while an enumeration is under way, its deltaLink once it is done). The row is also the lock
    that keeps two runs of the sync from reading the same feed side by side."""

    __tablename__ = "storage_cursors"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(sa.Text)  # None: no baseline taken yet
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )
