"""Make's status callbacks, the request's half: verify and record once (§1.6).

Nothing slow runs in the request. The signature is checked on the raw bytes, the body parsed
just enough to name the publication, and the raw event inserted by one statement that ignores
a duplicate webhook id (a replay answers 200 "duplicate") and, in the same round trip, checks
that the publication exists under that idempotency key (else 404, recorded as such). The
recorded event is pending and due at once: the scheduler's relay hands pending events to the
`apply_callbacks` actor in batches every second, as it does the outbox's publications, and
app.publishing.results applies the rules. No message is sent from the request, so none can be
lost between the commit and the broker.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import JSONB

from app.extensions import db, redis_store
from app.hooks import signature
from app.models.base import utcnow
from app.publishing.results import RESULT_STATUSES

KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "content-type", "user-agent")

# One statement, one round trip: the LEFT JOIN finds the publication (primary key) only under
# its idempotency key; an unknown one is recorded already settled, a known one pending.
RECORD = sa.text("""
    INSERT INTO callback_events (webhook_id, publication_id, status, outcome, headers, raw_body,
                                 received_at, requeue_at, applied_at)
    SELECT :webhook_id, p.id, :status,
           CASE WHEN p.id IS NULL THEN 'unknown_publication' ELSE 'pending' END,
           :headers, :raw_body, :now,
           CASE WHEN p.id IS NOT NULL THEN CAST(:now AS timestamptz) END,
           CASE WHEN p.id IS NULL THEN CAST(:now AS timestamptz) END
    FROM (VALUES (1)) AS one
    LEFT JOIN publications p ON p.id = :publication_id AND p.idempotency_key = :key
    ON CONFLICT (webhook_id) DO NOTHING
    RETURNING id, publication_id
""").bindparams(sa.bindparam("headers", type_=JSONB))


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
        status = payload["status"]
        if status not in RESULT_STATUSES:
            raise ValueError(status)
        delivery_id = str(payload["delivery_id"])
    except (ValueError, KeyError, TypeError):
        return Answer(400, "malformed")
    key = payload.get("idempotency_key")
    now = utcnow()
    row = db.session.execute(RECORD, {
        "webhook_id": webhook_id, "status": status, "raw_body": body.decode("utf-8", "replace"),
        "headers": {k: headers.get(k) for k in KEPT_HEADERS if headers.get(k)},
        "publication_id": _publication_id(delivery_id), "key": key if isinstance(key, str) else None,
        "now": now}).one_or_none()
    db.session.commit()
    if row is None:
        return Answer(200, "duplicate")
    if row.publication_id is None:
        current_app.logger.warning("Make callback for unknown publication %s", delivery_id)
        return Answer(404, "unknown_publication")
    return Answer(200, "accepted")


def _publication_id(delivery_id: str) -> int | None:
    """`pub-<id>` -> id (None for anything else, or past the integer column's range)."""
    prefix, _, number = delivery_id.partition("-")
    if prefix != "pub" or not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    return int(number)
