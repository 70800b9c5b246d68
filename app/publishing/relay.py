"""Periodic jobs of the outbox: hand due rows to the `publish` actor; flag stuck ones.

The relay marks each row it enqueues by pushing its `next_attempt_at` forward by
`PUBLISH_REQUEUE_AFTER_S`: if the message is lost (broker flushed, worker killed before it
claimed the row), the row becomes due again and is re-sent under the same idempotency key.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import audit
from app.extensions import db
from app.models import ContentObject, Publication, PublicationStatus as P
from app.models.base import utcnow
from app.publishing.status import sync_object_status


def due_publications(limit: int) -> list[int]:
    """Claim the relay's right to enqueue the due rows (SKIP LOCKED: relays never collide)."""
    now = utcnow()
    stale_claim = now - timedelta(seconds=current_app.config["PUBLISH_CLAIM_TIMEOUT_S"])
    due = (
        sa.select(Publication.id)
        .where(
            sa.or_(
                sa.and_(Publication.status == P.PENDING, Publication.next_attempt_at <= now),
                sa.and_(
                    Publication.status == P.SENDING,
                    Publication.claimed_at < stale_claim,
                    Publication.next_attempt_at <= now,
                ),
            )
        )
        .order_by(Publication.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            sa.update(Publication)
            .where(Publication.id.in_(ids))
            .values(next_attempt_at=now + timedelta(seconds=current_app.config["PUBLISH_REQUEUE_AFTER_S"]))
        )
    db.session.commit()
    return ids


def relay(limit: int = 500) -> int:
    from app.tasks import by_name

    publish = by_name("publish")

    ids = due_publications(limit)
    for publication_id in ids:
        publish.send(publication_id)
    return len(ids)


def sweep_stuck(limit: int = 500) -> int:
    """`sent` with no callback in time -> `unknown`: flagged, never re-sent automatically
    (a duplicate post on a brand's page is worse than a late one).

    Each row in a short transaction of its own that locks the post before the publication,
    the order of every other writer (app/publishing/sender.py, status.py): taking them the
    other way round deadlocks with a callback applied to the same post at the same moment."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["PUBLISH_CALLBACK_TIMEOUT_S"])
    candidates = db.session.execute(
        sa.select(Publication.id, Publication.object_id)
        .where(Publication.status == P.SENT, Publication.sent_at < cutoff)
        .order_by(Publication.sent_at)
        .limit(limit)
    ).all()
    db.session.rollback()
    swept = 0
    for publication_id, object_id in candidates:
        db.session.execute(sa.select(ContentObject.id).where(ContentObject.id == object_id).with_for_update())
        publication = db.session.scalar(
            sa.select(Publication)
            .where(Publication.id == publication_id, Publication.status == P.SENT, Publication.sent_at < cutoff)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if publication is not None:  # a callback did not land meanwhile
            publication.status = P.UNKNOWN
            publication.last_error = "no callback from Make in time"
            audit.record("publication_unknown", publication, data={"sent_at": publication.sent_at.isoformat()})
            sync_object_status(publication.object_id)
            swept += 1
        db.session.commit()
    return swept


def stuck_count() -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Publication).where(Publication.status == P.UNKNOWN))
        or 0
    )
