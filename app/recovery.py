"""Nothing stays stuck: the scheduler's job that re-sends the message of work left waiting.

A message can be lost between a commit and the broker (the broker down: `send_after_commit`
logs it and the request still answers as done, app/tasks/__init__.py), or with a worker killed
before it acknowledged. Rows that waited longer than `RECOVERY_AFTER_S` get their message again:

- an asset `processing` with no transfer pending and not touched since -> `process_media`;
- a SharePoint transfer not progressing (no chunk recorded since, no live lease) -> `store_media`;
- a campaign scenario still `provisioning` -> `provision_scenario`;
- an account test still `pending` -> `test_social_account`;
- a rendition still `pending` (and older than its time limit, `RENDITION_TIMEOUT_S`, too: making
  it may take that long) -> `make_rendition` (app/renditions).

Every one of these actors is safe to run twice (each re-reads its row and does nothing once it
moved on; processing re-checks the version under a row lock; a store holds a lease, renewed with
each chunk, that a second delivery waits for; provisioning holds a Redis lock per row and finds
before it creates; an account test writes its outcome only while the row is still pending, under
its row lock; a rendition is made only while pending, its maker killed past its time limit).
A re-sent row is marked in Redis for `RECOVERY_AFTER_S`, so that a slow run is
not sent again every minute (docs/operations.md).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db, redis_store
from app.models import (
    AccountTestStatus,
    CampaignScenario,
    MediaAsset,
    MediaStatus,
    Rendition,
    RenditionStatus,
    ScenarioStatus,
    SocialAccount,
)
from app.models.base import utcnow
from app.models.media import MediaTransfer

log = logging.getLogger(__name__)
RESENT_KEY = "recovery:resent:"


def _media_processing(cutoff, now, limit):
    return db.session.scalars(
        sa.select(MediaAsset.id)
        .where(
            MediaAsset.status == MediaStatus.PROCESSING,
            MediaAsset.updated_at < cutoff,
            ~sa.select(MediaTransfer.id).where(MediaTransfer.asset_id == MediaAsset.id).exists(),
        )
        .order_by(MediaAsset.updated_at)
        .limit(limit)
    ).all()


def _media_stores(cutoff, now, limit):
    return db.session.scalars(
        sa.select(MediaTransfer.asset_id)
        .join(MediaAsset, MediaAsset.id == MediaTransfer.asset_id)
        .where(
            MediaAsset.status == MediaStatus.PROCESSING,
            MediaTransfer.updated_at < cutoff,
            sa.or_(MediaTransfer.claimed_until.is_(None), MediaTransfer.claimed_until < now),
        )
        .order_by(MediaTransfer.updated_at)
        .limit(limit)
    ).all()


def _provisioning(cutoff, now, limit):
    return db.session.scalars(
        sa.select(CampaignScenario.id)
        .where(CampaignScenario.status == ScenarioStatus.PROVISIONING, CampaignScenario.updated_at < cutoff)
        .order_by(CampaignScenario.updated_at)
        .limit(limit)
    ).all()


def _account_tests(cutoff, now, limit):
    return db.session.scalars(
        sa.select(SocialAccount.id)
        .where(SocialAccount.test_status == AccountTestStatus.PENDING, SocialAccount.updated_at < cutoff)
        .order_by(SocialAccount.updated_at)
        .limit(limit)
    ).all()


def _renditions(cutoff, now, limit):
    making = now - timedelta(seconds=current_app.config["RENDITION_TIMEOUT_S"] + 60)
    return db.session.scalars(
        sa.select(Rendition.id)
        .where(Rendition.status == RenditionStatus.PENDING, Rendition.updated_at < min(cutoff, making))
        .order_by(Rendition.updated_at)
        .limit(limit)
    ).all()


def _actors():
    from app.renditions.tasks import make_rendition
    from app.tasks.campaigns import provision_scenario, test_social_account
    from app.tasks.media import process_media, store_media

    return (
        ("media_processing", _media_processing, process_media),
        ("media_store", _media_stores, store_media),
        ("provisioning", _provisioning, provision_scenario),
        ("account_test", _account_tests, test_social_account),
        ("rendition", _renditions, make_rendition),
    )


def _first_resend(kind: str, row_id: int, ttl: int) -> bool:
    """True when this row's message was not re-sent within the last `ttl` seconds (and marks it);
    without Redis, True: a second message is harmless, a missing one is not."""
    try:
        return bool(
            redis_store.client.set(redis_store.key(f"{RESENT_KEY}{kind}:{row_id}"), "1", nx=True, ex=max(1, ttl))
        )
    except Exception:
        log.warning("recovery: Redis unavailable, re-sending %s %s unmarked", kind, row_id, exc_info=True)
        return True


def resend_stuck(limit: int = 200) -> dict[str, int]:
    """Re-send the message of each row left waiting; the number re-sent per kind of work."""
    after = current_app.config["RECOVERY_AFTER_S"]
    now = utcnow()
    cutoff = now - timedelta(seconds=after)
    found = {kind: list(query(cutoff, now, limit)) for kind, query, _ in _actors()}
    db.session.rollback()  # nothing held while sending
    resent = {}
    for kind, _, actor in _actors():
        resent[kind] = 0
        for row_id in found[kind]:
            if not _first_resend(kind, row_id, after):
                continue
            try:
                actor.send(row_id)
            except Exception:
                log.exception("recovery: %s %s not re-sent (broker unavailable); next run", kind, row_id)
                redis_store.client.delete(redis_store.key(f"{RESENT_KEY}{kind}:{row_id}"))
                return resent
            resent[kind] += 1
            log.info("recovery: re-sent %s for row %s (waiting more than %s s)", kind, row_id, after)
    return resent
