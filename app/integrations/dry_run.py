"""A dry run through a campaign scenario, the sending half (docs/make-operations.md, "Dry runs").

"Test in Make" posts the scenario's webhook the normal payload marked `"dry_run": true`, under
`"delivery_id": "dry-<campaign scenario id>"` and a fresh key `"dry-<id>-<32 hex>"` kept for an
hour in Redis (`key()`) before anything is sent. The scenario's dry-run route, after the Data
Store lookup, posts nothing and calls back `dry_run_ok`, signed like any callback; the
receiving half (app/hooks/dry_run.py) checks the key and sets `CampaignScenario.verified_at`.

`state()` tells the campaign page where a scenario's last dry run stands: waiting (the page
polls), verified at a time, failed to send (with the reason), or unanswered after
`MAKE_DRY_RUN_TIMEOUT_S`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app import audit
from app.extensions import db, redis_store
from app.hooks.dry_run import KEY_TTL_S, key
from app.models import CampaignScenario, ScenarioStatus
from app.models.base import utcnow
from app.publishing import sender


class DryRunRefused(Exception):
    """The scenario cannot take a dry run now (not ready)."""


def _error_key(scenario_id: int) -> str:
    return redis_store.key(f"make:dry-run-error:{scenario_id}")


def request(scenario: CampaignScenario, *, actor) -> str:
    """Store a fresh key and have a worker send the dry run after the commit; returns the key."""
    from app.tasks import by_name, send_after_commit

    send_dry_run = by_name("send_dry_run")

    if scenario.status is not ScenarioStatus.READY or not scenario.webhook_url:
        raise DryRunRefused(scenario.id)
    idempotency_key = start(scenario.id)
    audit.record("scenario_dry_run_requested", scenario, actor=actor)
    send_after_commit(db.session(), send_dry_run, scenario.id, idempotency_key)
    return idempotency_key


def start(scenario_id: int) -> str:
    """A new key for the scenario's next dry run, stored before it is sent (an earlier run's
    late answer then no longer counts)."""
    idempotency_key = f"dry-{scenario_id}-{secrets.token_hex(16)}"
    pipe = redis_store.client.pipeline()
    pipe.set(key(scenario_id), idempotency_key, ex=KEY_TTL_S).delete(_error_key(scenario_id))
    pipe.execute()
    return idempotency_key


def send(scenario_id: int, idempotency_key: str) -> str:
    """POST the dry run to the scenario's webhook. Returns sent, superseded (a newer dry run
    was asked for), retry (raise to try again) or failed (the reason is kept for the page)."""
    stored = redis_store.client.get(key(scenario_id))
    if stored != idempotency_key:
        return "superseded"
    scenario = db.session.get(CampaignScenario, scenario_id)
    outcome, detail = sender._post(
        scenario.webhook_url if scenario else None, payload(scenario, idempotency_key) if scenario else {}
    )
    if outcome == "sent":
        return "sent"
    if outcome == "permanent":
        fail(scenario_id, detail)
        return "failed"
    return "retry"


def fail(scenario_id: int, reason: str) -> None:
    redis_store.client.set(_error_key(scenario_id), reason[:500], ex=KEY_TTL_S)


def payload(scenario: CampaignScenario, idempotency_key: str) -> dict:
    """The publication payload's shape (docs/external-apis.md §4.1) with nothing to publish."""
    account, campaign = scenario.social_account, scenario.campaign
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {
        "delivery_id": f"dry-{scenario.id}",
        "idempotency_key": idempotency_key,
        "attempt": 1,
        "fingerprint": "dry-run",
        "dry_run": True,
        "campaign": {"id": campaign.id, "name": campaign.name},
        "object": {"id": None, "title": "Dry run"},
        "platform": account.platform.value,
        "account_identifier": account.account_identifier,
        "text": "Dry run from the CMS: nothing is published.",
        "link": None,
        "media": [],
        "callback_url": base + current_app.url_map.bind("").build("hooks.make_callback"),
        "sent_at": int(time.time()),
    }


@dataclass(frozen=True)
class State:
    """`status`: never, waiting, verified, failed or timed_out."""

    status: str
    verified_at: datetime | None = None
    started_at: datetime | None = None
    error: str | None = None
    timeout_s: int = 0

    @property
    def settled(self) -> bool:
        return self.status != "waiting"


def state(scenario: CampaignScenario) -> State:
    pipe = redis_store.client.pipeline()
    pipe.pttl(key(scenario.id)).get(_error_key(scenario.id))
    left_ms, error = pipe.execute()
    timeout = int(current_app.config["MAKE_DRY_RUN_TIMEOUT_S"])
    verified = scenario.verified_at
    started = utcnow() - timedelta(milliseconds=KEY_TTL_S * 1000 - left_ms) if left_ms and left_ms > 0 else None
    if error is not None:
        return State("failed", verified, started, error, timeout)
    if started is None or (verified is not None and verified >= started):
        return State("verified" if verified else "never", verified, started, None, timeout)
    if utcnow() - started > timedelta(seconds=timeout):
        return State("timed_out", verified, started, None, timeout)
    return State("waiting", verified, started, None, timeout)
