"""Make's status callbacks: verify, record once, move the publication forward, in one short
transaction (nothing slow runs in the request)."""
from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from app import audit
from app.extensions import db, redis_store
from app.hooks import signature
from app.models import CallbackEvent, ContentObject, Publication, PublicationStatus
from app.models.base import utcnow
from app.publishing.status import moves_forward, sync_object_status

RESULT_STATUSES = {"published": PublicationStatus.PUBLISHED, "failed": PublicationStatus.FAILED}
KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "content-type", "user-agent")


@dataclass
class Answer:
    status: int
    outcome: str
    retry_after: int | None = None


def rate_limited(ip: str) -> int:
    """Seconds to wait when `ip` is over its per-minute budget, else 0."""
    limit = current_app.config["CALLBACK_RATE_LIMIT_PER_MINUTE"]
    key = redis_store.key(f"hooks:rate:{ip}")
    pipe = redis_store.client.pipeline()
    pipe.set(key, 0, ex=60, nx=True).incr(key).ttl(key)
    _, count, ttl = pipe.execute()
    return max(ttl, 1) if count > limit else 0


def receive(headers, body: bytes, ip: str) -> Answer:
    wait = rate_limited(ip)
    if wait:
        return Answer(429, "rate_limited", retry_after=wait)
    config = current_app.config
    try:
        webhook_id = signature.verify(headers, body, [config["MAKE_CALLBACK_SECRET"],
                                                      config["MAKE_CALLBACK_SECRET_PREVIOUS"]])
    except signature.SignatureError as exc:
        current_app.logger.warning("Make callback refused from %s: %s", ip, exc)
        return Answer(401, "bad_signature")
    try:
        payload = json.loads(body)
        target = RESULT_STATUSES[payload["status"]]
        delivery_id = str(payload["delivery_id"])
    except (ValueError, KeyError, TypeError):
        return Answer(400, "malformed")
    # The publication row is locked first, so the same event arriving twice at once is applied
    # once: the second copy waits, sees the first one's effect, then meets the unique webhook id.
    publication = _locked_publication(delivery_id, payload.get("idempotency_key"))
    if publication is None:
        current_app.logger.warning("Make callback for unknown publication %s", delivery_id)
        outcome, status = "unknown_publication", 404
    else:
        outcome, status = _apply(publication, payload, target), 200
    if _record_once(webhook_id, headers, body, payload.get("status"), outcome, publication) is None:
        db.session.rollback()  # a replay: whatever it would have changed is undone
        return Answer(200, "duplicate")
    db.session.commit()
    return Answer(status, outcome)


def _record_once(webhook_id: str, headers, body: bytes, status: str | None, outcome: str,
                 publication: Publication | None) -> int | None:
    """Insert the raw event; None when this webhook id was already recorded (a replay)."""
    statement = (insert(CallbackEvent)
                 .values(webhook_id=webhook_id, status=str(status)[:32], outcome=outcome,
                         publication_id=publication.id if publication else None,
                         headers={k: headers.get(k) for k in KEPT_HEADERS if headers.get(k)},
                         raw_body=body.decode("utf-8", "replace"))
                 .on_conflict_do_nothing(index_elements=["webhook_id"])
                 .returning(CallbackEvent.id))
    return db.session.scalar(statement)


def _locked_publication(delivery_id: str, idempotency_key) -> Publication | None:
    """The publication named by `pub-<id>`, locked, if the idempotency key matches.

    Its object is locked first: every writer takes the object's row before a publication's,
    so callbacks, claims and edits never wait on each other in a circle."""
    prefix, _, number = delivery_id.partition("-")
    if prefix != "pub" or not number.isdigit():
        return None
    object_id = db.session.scalar(sa.select(Publication.object_id).where(Publication.id == int(number)))
    if object_id is None:
        return None
    db.session.execute(sa.select(ContentObject.id).where(ContentObject.id == object_id).with_for_update())
    publication = db.session.scalar(sa.select(Publication).where(Publication.id == int(number))
                                    .with_for_update())
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
        publication.external_url = payload.get("external_url")
        publication.last_error = None
    else:
        error = payload.get("error") or {}
        publication.last_error = f"{error.get('code', 'error')}: {error.get('message', '')}"[:2000]
    outcome = "applied"
    if payload.get("fingerprint") != publication.fingerprint:
        # What was published is not what was approved: keep the result, flag it loudly.
        outcome = "fingerprint_mismatch"
        audit.record("fingerprint_mismatch", publication,
                     data={"approved": publication.fingerprint, "callback": payload.get("fingerprint")})
    sync_object_status(publication.object_id)
    return outcome
