"""The receiving half of a dry run (docs/external-apis.md, "Make status callbacks").

"Test in Make" sends a scenario's webhook the normal payload with `"dry_run": true`,
`"delivery_id": "dry-<campaign_scenario_id>"` and a fresh `"idempotency_key":
"dry-<campaign_scenario_id>-<32 hex>"`, stored first under `key(<campaign_scenario_id>)` for an
hour. The scenario's dry-run branch answers with a callback signed like any other,
`{"delivery_id": "dry-<id>", "idempotency_key": "<that key>", "status": "dry_run_ok"}`. Its
arrival proves the hook, the Data Store lookup, the mapping and the HMAC all work on that
scenario: the scenario is marked verified, the key is spent. Nothing is recorded in
`callback_events` (no publication is involved); a key that is not the stored one is answered
404 `unknown_dry_run`.
"""

from __future__ import annotations

import hmac

import redis
import sqlalchemy as sa
from flask import current_app

from app.extensions import db, redis_store
from app.hooks.endpoint import Answer, delivery_number, quick_redis
from app.models import CampaignScenario
from app.models.base import utcnow

KEY_TTL_S = 3600


def key(campaign_scenario_id: int) -> str:
    """Where the sending side stores the key it sent (with a `KEY_TTL_S` expiry)."""
    return redis_store.key(f"make:dry-run:{campaign_scenario_id}")


def confirm(delivery_id: str, idempotency_key: str) -> Answer:
    """Mark the scenario of a signed `dry_run_ok` callback verified, if its key is the one sent."""
    scenario_id = delivery_number(delivery_id, "dry")
    if scenario_id is None:
        return Answer(404, "unknown_dry_run")
    try:
        stored = quick_redis().get(key(scenario_id))
    except redis.RedisError as exc:
        # Fail closed: nothing can be checked. A non-2xx answer makes Make retry the callback.
        current_app.logger.warning(
            "Dry-run callback for scenario %s not checked, Redis unavailable: %r", scenario_id, exc
        )
        return Answer(503, "unavailable", retry_after=60)
    if stored is None or not hmac.compare_digest(stored.encode(), idempotency_key.encode()):
        current_app.logger.warning("Dry-run callback for scenario %s with an unknown key", scenario_id)
        return Answer(404, "unknown_dry_run")
    verified = db.session.execute(
        sa.update(CampaignScenario).where(CampaignScenario.id == scenario_id).values(verified_at=utcnow())
    )
    db.session.commit()
    if verified.rowcount == 0:
        return Answer(404, "unknown_dry_run")
    try:
        quick_redis().delete(key(scenario_id))
    except redis.RedisError:  # the key expires within the hour anyway
        current_app.logger.warning("Dry-run key of scenario %s not deleted, Redis unavailable", scenario_id)
    return Answer(200, "verified")
