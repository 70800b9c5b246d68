"""What the parts of the callback endpoint share: the answer it gives, and a Redis client that
gives up fast (app.hooks.callbacks for the rate limit, app.hooks.dry_run for the dry-run key).

The app's main client gives a stalled Redis `REDIS_SOCKET_TIMEOUT_S` (a second) before the
"temporarily unavailable" page; a callback must not wait that long for a rate limit it can do
without, so the endpoint has its own client with `CALLBACK_REDIS_TIMEOUT_S` (0.25 s) for
connecting and for each answer, and no retry.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry


@dataclass
class Answer:
    status: int
    outcome: str
    retry_after: int | None = None
    reason: str | None = None  # why a signed body was refused (400), machine-readable
    field: str | None = None  # the field at fault, when there is one

    def body(self) -> dict:
        extra = {"reason": self.reason, "field": self.field}
        return {"outcome": self.outcome, **{k: v for k, v in extra.items() if v is not None}}

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def quick_redis() -> redis.Redis:
    """The endpoint's Redis client (one per app, built on first use from `REDIS_URL`)."""
    client = current_app.extensions.get("redis_callbacks")
    if client is None:
        timeout = current_app.config["CALLBACK_REDIS_TIMEOUT_S"]
        client = redis.Redis.from_url(
            current_app.config["REDIS_URL"],
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        current_app.extensions["redis_callbacks"] = client
    return client


def delivery_number(delivery_id: str, prefix: str) -> int | None:
    """`<prefix>-<id>` -> id (`pub-981` for a publication, `dry-12` for a dry run's scenario);
    None for anything else, or past the integer column's range."""
    head, _, number = delivery_id.partition("-")
    if head != prefix or not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    return int(number)
