"""The outbox: approving an object writes its publications in the same transaction.

One row per target (a campaign scenario) and generation, with a unique idempotency key that
the Make scenario's Data Store uses to make a second run of the same key a no-op.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import (
    CampaignScenario,
    ContentObject,
    MediaAsset,
    ObjectMedia,
    Publication,
    PublicationStatus,
    object_targets,
)
from app.models.base import utcnow


def fingerprint(obj: ContentObject) -> str:
    """A hash of what is approved: text, link, and each media file by its content hash (a new
    version of a file changes its sha256, so it changes the fingerprint), and each network's
    own version of them, options included (app/versions.py)."""
    from app import versions

    media = db.session.execute(
        sa.select(ObjectMedia.media_asset_id, MediaAsset.sha256)
        .join(MediaAsset, MediaAsset.id == ObjectMedia.media_asset_id)
        .where(ObjectMedia.object_id == obj.id)
        .order_by(ObjectMedia.position)
    ).all()
    approved = {
        "message": obj.message or "",
        "link": obj.link or "",
        "media": [[asset_id, sha] for asset_id, sha in media],
    }
    if own := versions.canonical(obj):
        approved["versions"] = own
    canonical = json.dumps(approved, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key(object_id: int, scenario_id: int, generation: int) -> str:
    return f"o{object_id}-s{scenario_id}-g{generation}"


def target_scenarios(obj: ContentObject) -> list[CampaignScenario]:
    return list(
        db.session.scalars(
            sa.select(CampaignScenario)
            .join(object_targets, object_targets.c.campaign_scenario_id == CampaignScenario.id)
            .where(object_targets.c.object_id == obj.id)
            .order_by(CampaignScenario.id)
        )
    )


def undo_deadline(approved_at: datetime) -> datetime:
    """Until this moment the approval may be undone (app.reviews.service.undo_approval)."""
    return approved_at + timedelta(seconds=current_app.config["APPROVAL_UNDO_S"])


def due_after_approval(obj: ContentObject, approved_at: datetime) -> datetime:
    """An approval's publications are due at the post's schedule, but never before its undo
    window has closed: nothing leaves while the approver may still take it back."""
    window_end = undo_deadline(approved_at)
    return max(obj.scheduled_at, window_end) if obj.scheduled_at else window_end


def add_publications(
    obj: ContentObject, approved_fingerprint: str, due_at: datetime | None = None
) -> list[Publication]:
    """Write one pending publication per target, in the caller's transaction."""
    rows = []
    for scenario in target_scenarios(obj):
        generation = 1 + (
            db.session.scalar(
                sa.select(sa.func.max(Publication.generation)).where(
                    Publication.object_id == obj.id, Publication.campaign_scenario_id == scenario.id
                )
            )
            or 0
        )
        rows.append(
            Publication(
                object_id=obj.id,
                campaign_scenario_id=scenario.id,
                generation=generation,
                idempotency_key=idempotency_key(obj.id, scenario.id, generation),
                fingerprint=approved_fingerprint,
                next_attempt_at=due_at or utcnow(),
            )
        )
    db.session.add_all(rows)
    return rows


def withdraw_pending(obj: ContentObject) -> int:
    """Remove the publications of `obj` not claimed yet (their content is no longer what was
    approved). The caller holds the object's row lock, which `sender.claim` also takes, so a
    row cannot be claimed meanwhile."""
    result = db.session.execute(
        sa.delete(Publication).where(Publication.object_id == obj.id, Publication.status == PublicationStatus.PENDING)
    )
    return result.rowcount
