"""A review link: one named outside person may decide once on one post, without an account
(README, "Outside reviewers"). The URL carries a signed token; the table keeps only a hash of its
secret part, so a copy of the database opens nothing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import StrEnum, utcnow


class LinkState(StrEnum):
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ReviewLink(db.Model):
    __tablename__ = "review_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_name: Mapped[str] = mapped_column(sa.String(120))
    reviewer_email: Mapped[str] = mapped_column(sa.String(254))
    secret_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the token's secret, hex
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # "approved" or "changes_requested", with the name the person gave when deciding.
    decision: Mapped[str | None] = mapped_column(sa.String(32))
    decided_name: Mapped[str | None] = mapped_column(sa.String(120))
    # The approval this link's decision made: the link is one approver of the post's decision.
    approval_id: Mapped[int | None] = mapped_column(sa.ForeignKey("approvals.id", ondelete="SET NULL"))
    # The step of the campaign's approval chain this person approves (docs/approval-chains.md).
    step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("approval_steps.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )

    def state(self, now: datetime | None = None) -> LinkState:
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.used_at is not None:
            return LinkState.USED
        if self.expires_at <= (now or utcnow()):
            return LinkState.EXPIRED
        return LinkState.ACTIVE

    @classmethod
    def of_object(cls, object_id: int):
        return sa.select(cls).where(cls.object_id == object_id).order_by(cls.created_at.desc(), cls.id.desc())
