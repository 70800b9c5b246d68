"""Dry-run confirmations, the receiving side: a signed `dry_run_ok` callback carrying the key
the CMS stored for that scenario marks the scenario verified, spends the key, and is recorded
nowhere else; any other key is answered 404 `unknown_dry_run` and changes nothing."""

import json
import secrets
import time

import pytest

from app.extensions import db, redis_store
from app.hooks import dry_run
from app.hooks.signature import sign
from app.models import Campaign, CampaignScenario, Platform, SocialAccount
from tests.conftest import CALLBACK_SECRET
from tests.test_callbacks import recorded_events


@pytest.fixture
def scenario(app):
    """A ready scenario and the key the sending side stored for its dry run (as it will)."""
    with app.app_context():
        account = SocialAccount(
            platform=Platform.INSTAGRAM, label="ig", make_connection_id=71, account_identifier="17841400000009"
        )
        db.session.add(account)
        db.session.flush()
        row = CampaignScenario(campaign=Campaign(name="Salon 2026"), social_account_id=account.id, status="ready")
        db.session.add(row)
        db.session.commit()
        key = f"dry-{row.id}-{secrets.token_hex(16)}"
        redis_store.client.set(dry_run.key(row.id), key, ex=dry_run.KEY_TTL_S)
        return {"id": row.id, "key": key}


def confirm(client, campaign_scenario_id, key, *, webhook_id=None, **extra):
    body = json.dumps(
        {"delivery_id": f"dry-{campaign_scenario_id}", "idempotency_key": key, "status": "dry_run_ok", **extra}
    ).encode()
    webhook_id = webhook_id or f"dry-{campaign_scenario_id}:dry_run_ok:1"
    timestamp = str(int(time.time()))
    return client.post(
        "/hooks/make",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(CALLBACK_SECRET, webhook_id, timestamp, body),
        },
    )


def verified_at(app, scenario_id):
    with app.app_context():
        return db.session.get(CampaignScenario, scenario_id).verified_at


def test_the_stored_key_verifies_the_scenario_and_is_spent(app, client, scenario):
    response = confirm(client, scenario["id"], scenario["key"], scenario_id=4521, execution_id="a1b2c3")
    assert response.status_code == 200 and response.json == {"outcome": "verified"}
    assert verified_at(app, scenario["id"]) is not None
    with app.app_context():
        assert redis_store.client.get(dry_run.key(scenario["id"])) is None
    assert recorded_events(app) == 0  # no publication involved: nothing in callback_events
    again = confirm(client, scenario["id"], scenario["key"], webhook_id=f"dry-{scenario['id']}:dry_run_ok:2")
    assert again.status_code == 404 and again.json == {"outcome": "unknown_dry_run"}


@pytest.mark.parametrize(
    "case", ["wrong_key", "other_scenarios_key", "no_key_stored", "no_such_scenario", "not_a_dry_run_id"]
)
def test_anything_but_the_stored_key_is_unknown_and_changes_nothing(app, client, scenario, case):
    scenario_id, key = scenario["id"], scenario["key"]
    if case == "wrong_key":
        key = f"dry-{scenario_id}-{secrets.token_hex(16)}"
    elif case == "other_scenarios_key":
        with app.app_context():
            redis_store.client.set(dry_run.key(scenario_id + 1), f"dry-{scenario_id + 1}-x", ex=60)
        key = f"dry-{scenario_id + 1}-x"
    elif case == "no_key_stored":
        with app.app_context():
            redis_store.client.delete(dry_run.key(scenario_id))
    elif case == "no_such_scenario":
        with app.app_context():
            redis_store.client.set(dry_run.key(999_999), key, ex=60)
        scenario_id = 999_999
    response = confirm(client, "x1" if case == "not_a_dry_run_id" else scenario_id, key)
    assert response.status_code == 404 and response.json == {"outcome": "unknown_dry_run"}
    assert verified_at(app, scenario["id"]) is None
    assert recorded_events(app) == 0


def test_a_dry_run_confirmation_must_be_signed(app, client, scenario):
    body = json.dumps(
        {"delivery_id": f"dry-{scenario['id']}", "idempotency_key": scenario["key"], "status": "dry_run_ok"}
    ).encode()
    response = client.post(
        "/hooks/make",
        data=body,
        headers={"webhook-id": "dry:1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"},
    )
    assert response.status_code == 401
    assert verified_at(app, scenario["id"]) is None


def test_the_function_answers_the_same(app, scenario):
    with app.app_context():
        assert dry_run.confirm(f"dry-{scenario['id']}", "dry-nope").outcome == "unknown_dry_run"
        answer = dry_run.confirm(f"dry-{scenario['id']}", scenario["key"])
    assert (answer.status, answer.outcome) == (200, "verified")
    assert verified_at(app, scenario["id"]) is not None


def test_the_key_is_stored_under_the_agreed_name(app):
    with app.app_context():
        assert dry_run.key(12) == app.config["REDIS_KEY_PREFIX"] + "make:dry-run:12"
