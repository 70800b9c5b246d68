"""Send one publication to its scenario's webhook: claim, POST, record. Safe to run twice.

The claim is one conditional UPDATE: only a `pending` row, or a `sending` row whose claim has
gone stale (its actor died), can be claimed, so two workers never send the same row at once.
The POST happens after the claim is committed; its result is recorded in a second short
transaction. Retries are not kept in a worker's memory: a retryable failure puts the row back
to `pending` with `next_attempt_at` in the future, and the relay sends it again then.

Transient failures (network errors, 429, 5xx) are retried for a duration, not a number of
attempts: until `PUBLISH_RETRY_WINDOW_S` (6 h) after the row's first attempt, with capped
exponential back-off and jitter, so a Make incident of an hour ends with everything published
once (the idempotency key makes a late duplicate run a no-op) and nothing left for a person.
"""

from __future__ import annotations

import functools
import random
import ssl
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from flask import current_app

from app import audit
from app.extensions import db
from app.models import CampaignScenario, ContentObject, ObjectStatus, Publication, PublicationStatus as P
from app.models.base import utcnow
from app.publishing import media_check, payload
from app.publishing.status import sync_object_status
from app.renditions.service import RenditionPending
from app import workflow

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


def claim(publication_id: int) -> Publication | None:
    # The object row is locked before the publication row, in the same order as the edits that
    # withdraw unsent publications (app.reviews.service.reopen_after_change): no deadlock.
    object_id = db.session.scalar(sa.select(Publication.object_id).where(Publication.id == publication_id))
    if object_id is None:
        return None
    obj = db.session.get(ContentObject, object_id, with_for_update=True, populate_existing=True)
    stale = utcnow() - timedelta(seconds=current_app.config["PUBLISH_CLAIM_TIMEOUT_S"])
    claimed_id = db.session.scalar(
        sa.update(Publication)
        .where(
            Publication.id == publication_id,
            sa.or_(
                Publication.status == P.PENDING,
                sa.and_(Publication.status == P.SENDING, Publication.claimed_at < stale),
            ),
        )
        .values(
            status=P.SENDING,
            claimed_at=utcnow(),
            attempts=Publication.attempts + 1,
            first_attempt_at=sa.func.coalesce(Publication.first_attempt_at, utcnow()),
        )
        .returning(Publication.id)
    )
    if claimed_id is None:
        db.session.rollback()
        return None
    publication = db.session.get(Publication, claimed_id, populate_existing=True)
    if obj.status in (ObjectStatus.APPROVED, ObjectStatus.SCHEDULED):
        workflow.transition(obj, ObjectStatus.PUBLISHING)
    db.session.commit()
    return publication


def backoff_seconds(attempt: int) -> float:
    """Base x 2^(attempt-1), capped at PUBLISH_BACKOFF_MAX_S, then +-20 % jitter: rows that
    failed together during an outage spread out instead of coming back together."""
    cfg = current_app.config
    delay = min(cfg["PUBLISH_BACKOFF_BASE_S"] * 2 ** min(attempt - 1, 32), cfg["PUBLISH_BACKOFF_MAX_S"])
    return delay * random.uniform(0.8, 1.2)


def retry_deadline(publication: Publication) -> datetime:
    """Transient failures are retried until this moment; then the row fails with the last reason."""
    window = timedelta(seconds=current_app.config["PUBLISH_RETRY_WINDOW_S"])
    return (publication.first_attempt_at or utcnow()) + window


def send(publication_id: int) -> str:
    """Returns what happened: not_claimed, sent, retry, waiting (for a rendition), failed."""
    publication = claim(publication_id)
    if publication is None:
        return "not_claimed"
    scenario = db.session.get(CampaignScenario, publication.campaign_scenario_id)
    try:
        body = payload.build(publication)
    except RenditionPending as exc:  # the file for this network is being made: wait for it
        return _wait_for_rendition(publication, exc)
    except LookupError as exc:  # media without a public URL, or a rendition that failed
        return _record(publication, "permanent", str(exc))
    urls = [item["url"] for item in body["media"]]
    blocked = media_check.unreachable(urls) if urls else []
    if blocked:
        # Retried like a network error: the CMS's public address may be down for a moment.
        return _record(publication, "retryable", "media not publicly reachable: " + "; ".join(blocked))
    outcome, detail = _post(scenario.webhook_url, body)
    return _record(publication, outcome, detail)


def _wait_for_rendition(publication: Publication, pending: RenditionPending) -> str:
    """Back to the outbox for `RENDITION_WAIT_S`, as if never claimed: the attempt is not
    counted and the retry window has not started (nothing was sent). The payload recorded the
    missing rendition and queued it; one pending for longer than it may take is queued again
    (its message was lost)."""
    from app.renditions import service as renditions

    db.session.execute(
        sa.select(ContentObject.id).where(ContentObject.id == publication.object_id).with_for_update()
    )  # the order of every writer: object, then publication
    publication = db.session.get(Publication, publication.id, with_for_update=True, populate_existing=True)
    if publication.status is not P.SENDING:
        db.session.rollback()
        return "superseded"
    publication.status = P.PENDING
    publication.attempts -= 1
    if publication.attempts == 0:
        publication.first_attempt_at = None
    publication.last_error = f"waiting for {pending}"
    publication.next_attempt_at = utcnow() + timedelta(seconds=current_app.config["RENDITION_WAIT_S"])
    renditions.requeue_if_stale(pending.rendition_id)
    db.session.commit()
    return "waiting"


def _post(url: str | None, body: dict) -> tuple[str, str]:
    if not url:
        return "permanent", "the campaign scenario has no webhook URL (not provisioned)"
    cfg = current_app.config
    timeout = httpx.Timeout(cfg["PUBLISH_READ_TIMEOUT_S"], connect=cfg["PUBLISH_CONNECT_TIMEOUT_S"])
    try:
        response = httpx.post(url, json=body, timeout=timeout, verify=_tls_context())
    except httpx.HTTPError as exc:
        return "retryable", f"{type(exc).__name__}: {exc}"[:500]
    if response.status_code == 200:
        return "sent", "200"
    detail = f"HTTP {response.status_code}: {response.text[:300]}"
    return ("retryable" if response.status_code in RETRYABLE_STATUS else "permanent"), detail


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: httpx builds a new one for each call otherwise, parsing the
    CA bundle again (tens of milliseconds of CPU per publication)."""
    return httpx.create_ssl_context()


def _record(publication: Publication, outcome: str, detail: str) -> str:
    # Object, then publication: the order of every writer (a callback applied at this moment
    # takes the same two locks, and a failure below syncs the object's status).
    db.session.execute(sa.select(ContentObject.id).where(ContentObject.id == publication.object_id).with_for_update())
    publication = db.session.get(Publication, publication.id, with_for_update=True, populate_existing=True)
    if publication.status is not P.SENDING:
        db.session.rollback()  # a callback already moved it on: never move it back
        return "superseded"
    now, deadline = utcnow(), retry_deadline(publication)
    if outcome == "sent":
        publication.status, publication.sent_at, publication.last_error = P.SENT, now, None
    elif outcome == "retryable" and now < deadline:
        publication.status = P.PENDING
        publication.last_error = detail
        # The last attempt is made at the end of the window rather than after it.
        publication.next_attempt_at = min(now + timedelta(seconds=backoff_seconds(publication.attempts)), deadline)
        outcome = "retry"
    else:
        publication.status, publication.last_error, publication.completed_at = P.FAILED, detail, now
        outcome = "failed"
    audit.record(
        "publish_attempt", publication, data={"attempt": publication.attempts, "outcome": outcome, "detail": detail}
    )
    if outcome == "failed":
        sync_object_status(publication.object_id)
    db.session.commit()
    return outcome
