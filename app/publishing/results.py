"""Apply Make's recorded callbacks to their publications (the `apply_callbacks` actor's work).

The request only verified and recorded the event (app.hooks.callbacks); the rules run here,
in one short transaction per event: the event row first (a copy of the message being applied
elsewhere waits, then finds it applied), then the object, then the publication (the order every
writer uses, so callbacks, claims and edits never wait on each other in a circle).
Statuses only move forward, a fingerprint mismatch is flagged and audited, the object's status
follows. The event is stamped `applied_at` in the same transaction: applying twice is a no-op.

The rules run inside a savepoint: an event that cannot apply (a shape the request should have
refused, a value the database rejects) rolls back only its own changes, counts a failed attempt
with the error, and after `CALLBACK_MAX_APPLY_ATTEMPTS` is set aside as `could_not_apply`
(listed on the publishing health page) instead of holding the events handed over with it.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import audit
from app.extensions import db
from app.models import CallbackEvent, CampaignScenario, ContentObject, Publication, PublicationStatus, SocialAccount
from app.models.base import utcnow
from app.publishing.status import moves_forward, sync_object_status
from app.publishing.urls import safe_external_url

RESULT_STATUSES = {"published": PublicationStatus.PUBLISHED, "failed": PublicationStatus.FAILED}


def apply(event_id: int) -> str | None:
    """Apply one pending event; its outcome, or None when it was already applied."""
    event = db.session.scalar(
        sa.select(CallbackEvent)
        .where(CallbackEvent.id == event_id, CallbackEvent.applied_at.is_(None))
        .with_for_update()
    )
    if event is None:
        db.session.rollback()
        return None
    try:
        with db.session.begin_nested():
            _apply_event(event)
    except Exception as exc:  # whatever one event raises must not hold the others
        _count_failure(event, exc)
    else:
        event.applied_at = utcnow()
    db.session.commit()
    return event.outcome


def _apply_event(event: CallbackEvent) -> None:
    payload = json.loads(event.raw_body)
    publication = _locked_publication(event.publication_id, payload.get("idempotency_key"))
    if publication is None:
        current_app.logger.warning("Make callback %s for an unknown publication", event.webhook_id)
        event.outcome, event.publication_id = "unknown_publication", None
    else:
        event.outcome = _apply(publication, payload, RESULT_STATUSES[payload["status"]])
    db.session.flush()  # a value the database refuses fails here, inside the savepoint


def _count_failure(event: CallbackEvent, exc: Exception) -> None:
    """The savepoint is rolled back (the event row stays locked): count the attempt, keep the
    error, and set the event aside once it has failed too often."""
    event.attempts = (event.attempts or 0) + 1
    event.last_error = f"{type(exc).__name__}: {exc}".replace("\x00", "")[:2000]
    give_up = event.attempts >= current_app.config["CALLBACK_MAX_APPLY_ATTEMPTS"]
    if give_up:
        event.outcome, event.applied_at = "could_not_apply", utcnow()
    current_app.logger.warning(
        "Make callback %s could not be applied (attempt %d%s): %s",
        event.webhook_id,
        event.attempts,
        ", set aside" if give_up else "",
        event.last_error,
    )


def _locked_publication(publication_id: int | None, idempotency_key) -> Publication | None:
    """The publication, locked after its object, if the idempotency key still matches.

    FOR NO KEY UPDATE rather than FOR UPDATE: the request inserting the next event of this
    publication takes a key-share lock through the foreign key and must never wait for us."""
    if publication_id is None:
        return None
    object_id = db.session.scalar(sa.select(Publication.object_id).where(Publication.id == publication_id))
    if object_id is None:
        return None
    db.session.execute(sa.select(ContentObject.id).where(ContentObject.id == object_id).with_for_update())
    publication = db.session.scalar(
        sa.select(Publication).where(Publication.id == publication_id).with_for_update(key_share=True)
    )
    if publication is None or publication.idempotency_key != idempotency_key:
        return None
    return publication


def _apply(publication: Publication, payload: dict, target: PublicationStatus) -> str:
    if not moves_forward(publication.status, target):
        return "stale"
    publication.status = target
    publication.completed_at = utcnow()
    if target is PublicationStatus.PUBLISHED:
        publication.external_id = str(payload.get("external_id") or "")[:255] or None
        # Events recorded before the endpoint checked the address may hold anything.
        publication.external_url = safe_external_url(payload.get("external_url"))
        publication.last_error = None
    else:
        error = payload.get("error") or {}
        publication.last_error = f"{error.get('code', 'error')}: {error.get('message', '')}"[:2000]
    outcome = "applied"
    if payload.get("fingerprint") != publication.fingerprint:
        # What was published is not what was approved: keep the result, flag it loudly.
        outcome = "fingerprint_mismatch"
        audit.record(
            "fingerprint_mismatch",
            publication,
            data={"approved": publication.fingerprint, "callback": payload.get("fingerprint")},
        )
    sync_object_status(publication.object_id)
    return outcome


def requeue_after() -> timedelta:
    return timedelta(seconds=current_app.config["CALLBACK_REQUEUE_AFTER_S"])


def hand_over_due(limit: int = 1000, batch: int = 50) -> int:
    """Hand the pending events that are due to the `apply_callbacks` actor, `batch` ids per
    message (the relay job, every second). An event is due when just recorded, and again
    `CALLBACK_REQUEUE_AFTER_S` after each hand-over while it stays pending (its message was
    lost, or the actor kept failing): `requeue_at` moves forward with each hand-over, so a
    long queue is not flooded with copies, and a copy applied after the original is a no-op."""
    from app.tasks import by_name

    apply_callbacks = by_name("apply_callbacks")

    now = utcnow()
    ids = list(
        db.session.scalars(
            sa.select(CallbackEvent.id)
            .where(CallbackEvent.applied_at.is_(None), CallbackEvent.requeue_at <= now)
            .order_by(CallbackEvent.requeue_at, CallbackEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            sa.update(CallbackEvent).where(CallbackEvent.id.in_(ids)).values(requeue_at=now + requeue_after())
        )
    db.session.commit()
    for start in range(0, len(ids), batch):
        apply_callbacks.send(ids[start : start + batch])
    return len(ids)


def _described(query):
    """Callback events with what people recognise them by: the post, the network, the account
    (outer joins: an event for an unknown publication has none)."""
    return (
        query.outerjoin(Publication, Publication.id == CallbackEvent.publication_id)
        .outerjoin(ContentObject, ContentObject.id == Publication.object_id)
        .outerjoin(CampaignScenario, CampaignScenario.id == Publication.campaign_scenario_id)
        .outerjoin(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
    )


def recent(limit: int = 20):
    """The latest callbacks, newest first: (event, post id, post title, platform, account label)."""
    return db.session.execute(
        _described(
            sa.select(CallbackEvent, ContentObject.id, ContentObject.title, SocialAccount.platform, SocialAccount.label)
        )
        .order_by(CallbackEvent.received_at.desc(), CallbackEvent.id.desc())
        .limit(limit)
    ).all()


def set_aside(limit: int = 50):
    """Events given up after CALLBACK_MAX_APPLY_ATTEMPTS, newest first, and how many there are."""
    query = _described(
        sa.select(CallbackEvent, ContentObject.id, ContentObject.title, SocialAccount.platform, SocialAccount.label)
    ).where(CallbackEvent.outcome == "could_not_apply")
    rows = db.session.execute(
        query.order_by(CallbackEvent.applied_at.desc(), CallbackEvent.id.desc()).limit(limit)
    ).all()
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(CallbackEvent).where(CallbackEvent.outcome == "could_not_apply")
    )
    return rows, total
