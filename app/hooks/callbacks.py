"""Make's status callbacks, the request's half: verify, check and record once
(docs/external-apis.md, "Make status callbacks").

Nothing slow runs in the request. The signature is checked on the raw bytes (timestamps up to
`CALLBACK_MAX_AGE_S` old, for Make's late `Break` retries), the body parsed within limits and
checked against the one schema of what can apply (app.hooks.schema: else 400 with the reason,
nothing recorded), and the raw event inserted by one statement that ignores a duplicate webhook
id (a replay answers 200 "duplicate") and, in the same round trip, checks that the publication
exists under that idempotency key (else 404, recorded as such). The recorded event is pending
and due at once: the scheduler's relay hands pending events to the `apply_callbacks` actor in
batches every second, as it does the outbox's publications, and app.publishing.results applies
the rules. No message is sent from the request, so none can be lost between the commit and the
broker. A `dry_run_ok` callback is not recorded: app.hooks.dry_run marks its scenario verified.

Retention: the unique `callback_events.webhook_id` IS the replay protection for signed
callbacks up to `CALLBACK_MAX_AGE_S` old. Whatever prunes `callback_events` one day must never
delete rows received less than 2 x CALLBACK_MAX_AGE_S ago, or a captured callback could be
replayed and recorded a second time.
"""

from __future__ import annotations

import time

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import JSONB

from app.extensions import db, redis_store
from app.hooks import dry_run, schema, signature
from app.hooks.endpoint import Answer, delivery_number, quick_redis
from app.models.base import utcnow

KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "content-type", "user-agent")
REDIS_COOLDOWN_S = 5

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


def rate_limited(ip: str) -> int:
    """Seconds to wait when `ip` is over its per-minute budget, else 0.

    Fails open: when Redis errors or stalls (`CALLBACK_REDIS_TIMEOUT_S`), the callback is not
    limited but still verified and recorded (a warning is logged), and Redis is left alone for
    `REDIS_COOLDOWN_S` so a stalled server costs one timeout, not one per callback."""
    state = current_app.extensions.setdefault("callbacks_redis_down", {"until": 0.0})
    if time.monotonic() < state["until"]:
        return 0
    limit = current_app.config["CALLBACK_RATE_LIMIT_PER_MINUTE"]
    key = redis_store.key(f"hooks:rate:{ip}")
    try:
        pipe = quick_redis().pipeline()
        pipe.set(key, 0, ex=60, nx=True).incr(key).ttl(key)
        _, count, ttl = pipe.execute()
    except redis.RedisError as exc:
        state["until"] = time.monotonic() + REDIS_COOLDOWN_S
        current_app.logger.warning(
            "Make callbacks not rate limited for %s s, Redis unavailable: %r", REDIS_COOLDOWN_S, exc
        )
        return 0
    return max(ttl, 1) if count > limit else 0


def receive(headers, body: bytes, ip: str) -> Answer:
    wait = rate_limited(ip)
    if wait:
        return Answer(429, "rate_limited", retry_after=wait)
    config = current_app.config
    try:
        webhook_id = signature.verify(
            headers,
            body,
            [config["MAKE_CALLBACK_SECRET"], config["MAKE_CALLBACK_SECRET_PREVIOUS"]],
            max_age=config["CALLBACK_MAX_AGE_S"],
        )
    except signature.SignatureError as exc:
        current_app.logger.warning("Make callback refused from %s: %s", ip, exc)
        return Answer(401, "bad_signature")
    try:
        payload = schema.parse(body)
    except schema.Malformed as exc:
        current_app.logger.warning("Make callback %s refused, it can never apply: %s", webhook_id, exc)
        return Answer(400, "malformed", reason=exc.reason, field=exc.field)
    if payload["status"] == schema.DRY_RUN_OK:
        return dry_run.confirm(payload["delivery_id"], payload["idempotency_key"])
    return record(webhook_id, headers, body, payload)


def record(webhook_id: str, headers, body: bytes, payload: dict) -> Answer:
    """Record a checked callback, once, in one statement."""
    row = db.session.execute(
        RECORD,
        {
            "webhook_id": webhook_id,
            "status": payload["status"],
            "raw_body": body.decode("utf-8"),
            "headers": _kept_headers(headers),
            "publication_id": delivery_number(payload["delivery_id"], "pub"),
            "key": payload["idempotency_key"],
            "now": utcnow(),
        },
    ).one_or_none()
    db.session.commit()
    if row is None:
        return Answer(200, "duplicate")
    if row.publication_id is None:
        current_app.logger.warning("Make callback for unknown publication %s", payload["delivery_id"])
        return Answer(404, "unknown_publication")
    return Answer(200, "accepted")


def _kept_headers(headers) -> dict:
    """The headers worth keeping, when they can be stored (JSONB refuses NUL): the unsigned
    ones are whatever the client sent."""
    kept = {name: headers.get(name) for name in KEPT_HEADERS}
    return {name: value[:300] for name, value in kept.items() if value and value.isprintable()}
