from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Decision, PublicationStatus, Timestamps, enum_column, utcnow
from app.publishing.urls import safe_external_url


class Approval(db.Model):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, "decision"))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # What was approved (message, link, media ids and their stored versions).
    fingerprint: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )


class Publication(Timestamps, db.Model):
    """The outbox: one row per object and target, per generation."""

    __tablename__ = "publications"
    __table_args__ = (
        sa.UniqueConstraint("object_id", "campaign_scenario_id", "generation"),
        sa.CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        # The relay scans only rows that still need work.
        sa.Index(
            "ix_publications_due", "next_attempt_at", postgresql_where=sa.text("status IN ('pending', 'sending')")
        ),
        sa.Index("ix_publications_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="RESTRICT"), index=True)
    campaign_scenario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign_scenarios.id", ondelete="RESTRICT"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    generation: Mapped[int] = mapped_column(default=1, server_default="1")
    fingerprint: Mapped[str] = mapped_column(sa.String(80))
    status: Mapped[PublicationStatus] = mapped_column(
        enum_column(PublicationStatus, "publication_status"), default=PublicationStatus.PENDING
    )
    external_id: Mapped[str | None] = mapped_column(sa.String(255))
    external_url: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The first webhook attempt: transient errors are retried until PUBLISH_RETRY_WINDOW_S after it.
    first_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def live_url(self) -> str | None:
        """The live post's address when it is safe to show as a link; older rows may hold
        whatever a callback sent (`javascript:`...), shown as text only."""
        return safe_external_url(self.external_url) if self.external_url else None


class CallbackEvent(db.Model):
    """Every accepted Make callback, kept raw; `webhook_id` makes replays no-ops.

    The request records it pending (`applied_at` NULL) and due (`requeue_at` now); the
    scheduler's relay hands due events to the `apply_callbacks` actor, which applies them and
    records the outcome. Each hand-over moves `requeue_at` forward, so an event whose message
    was lost is handed over again later."""

    __tablename__ = "callback_events"
    __table_args__ = (
        sa.Index("ix_callback_events_pending", "requeue_at", postgresql_where=sa.text("applied_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    publication_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("publications.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str | None] = mapped_column(sa.String(32))
    # pending, then applied, stale, fingerprint_mismatch, unknown_publication
    outcome: Mapped[str] = mapped_column(sa.String(32))
    headers: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    raw_body: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now(), index=True
    )
    applied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    requeue_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Failed applications of the event; past CALLBACK_MAX_APPLY_ATTEMPTS it is set aside.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
