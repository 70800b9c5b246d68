"""The Meilisearch circuit breaker, shared by every web process through Redis.

closed     searches go to Meilisearch;
open       a failure (error or budget exceeded) set `open` for the cool-down
           (`SEARCH_CIRCUIT_COOLDOWN_S`): searches go straight to PostgreSQL;
half-open  the cool-down is over but `tripped` is still set: one request (the holder of
           the short `probe` lock) tries Meilisearch while the others stay on PostgreSQL;
           its success clears `tripped` (closed), its failure opens the circuit again.
One MGET per search when closed. If Redis itself fails, the breaker lets Meilisearch be
tried: it must never be the reason a search fails.
"""

from __future__ import annotations

import logging

import redis
from flask import current_app

from app.extensions import redis_store

log = logging.getLogger(__name__)
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
TRY, PROBE = "try", "probe"
TRIPPED_TTL_S = 24 * 3600  # with no search for a day, the next one simply tries Meilisearch


def _keys() -> tuple[str, str, str]:
    return tuple(redis_store.key(f"search:circuit:{name}") for name in ("open", "tripped", "probe"))


def state() -> str:
    open_key, tripped_key, _ = _keys()
    is_open, tripped = redis_store.client.mget(open_key, tripped_key)
    return OPEN if is_open else HALF_OPEN if tripped else CLOSED


def attempt() -> str | None:
    """TRY (closed) or PROBE (half-open, this request holds the probe) when this search may
    go to Meilisearch; None when it must go to PostgreSQL."""
    try:
        current = state()
        if current == HALF_OPEN:
            budget_ms = current_app.config["SEARCH_BUDGET_MS"]
            won = redis_store.client.set(_keys()[2], "1", nx=True, px=2 * budget_ms)
            return PROBE if won else None
        return TRY if current == CLOSED else None
    except redis.RedisError:
        log.exception("search circuit: Redis unavailable, trying Meilisearch")
        return TRY


def record_success() -> None:
    try:
        _, tripped_key, probe_key = _keys()
        redis_store.client.delete(tripped_key, probe_key)
    except redis.RedisError:
        log.exception("search circuit: Redis unavailable")


def record_failure(reason: str) -> None:
    cooldown = current_app.config["SEARCH_CIRCUIT_COOLDOWN_S"]
    log.warning("search: Meilisearch failed (%s); PostgreSQL serves for %d s", reason, cooldown)
    try:
        open_key, tripped_key, probe_key = _keys()
        pipe = redis_store.client.pipeline()
        pipe.set(open_key, reason[:200], ex=cooldown)
        pipe.set(tripped_key, "1", ex=TRIPPED_TTL_S)
        pipe.delete(probe_key)
        pipe.execute()
    except redis.RedisError:
        log.exception("search circuit: Redis unavailable")
