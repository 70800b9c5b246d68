"""Dry runs through the real path: the campaign page's "Test in Make" posts the scenario's
webhook in the Make emulator, whose dry-run route calls the CMS back (served on loopback) with a
signed `dry_run_ok`; the row shows "verified" live. Real Redis broker, a Dramatiq worker, a
database of this module's own."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
import sqlalchemy as sa

from app.campaigns import service as campaigns
from app.extensions import db, redis_store
from app.hooks import dry_run as receiving
from app.integrations import dry_run
from app.models import CampaignScenario, Platform, Role, ScenarioStatus
from app.platforms import service as accounts
from tests.conftest import csrf_token
from tests.make_sandbox import CONNECTIONS, SECRET, ServedEmulator, emulated_app, signed_in, wait_for
from tests.make_templates import contract_template, instagram_photo

S = ScenarioStatus


@pytest.fixture(scope="module")
def emulator():
    served = ServedEmulator()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def app(servers, emulator):
    with emulated_app(servers, emulator.settings(), worker_threads=2, serve=True, MAKE_DRY_RUN_TIMEOUT_S=2) as app:
        yield app


@pytest.fixture
def editor(app):
    return signed_in(app, Role.EDITOR)


def _ready_scenario(app, emulator) -> CampaignScenario:
    """A campaign scenario provisioned by the worker, cloned from a template that follows the
    contract (its dry-run route included)."""
    with app.app_context(), accounts.make_client() as client:
        hook = client.create_hook(f"template-{uuid.uuid4().hex[:6]}")
        template = client.create_scenario(
            contract_template(
                instagram_photo(CONNECTIONS["instagram"]),
                secret=SECRET,
                hook_id=hook["id"],
                name=f"template-{hook['id']}",
            )
        )["id"]
        account = accounts.create_account(
            Platform.INSTAGRAM,
            label=f"IG {uuid.uuid4().hex[:4]}",
            template_scenario_id=None,
            make_connection_id=CONNECTIONS["instagram"],
            account_identifier=str(uuid.uuid4().int)[:17],
        )
        account.template_scenario_id = template  # set quietly: no account test, no dry run of its own
        campaign = campaigns.create_campaign(
            name="Salon", description="", starts_on=None, ends_on=None, account_ids=[account.id], actor=None
        )
        db.session.commit()
        campaign_id = campaign.id

    def ready():
        with app.app_context():
            row = db.session.scalar(sa.select(CampaignScenario).where(CampaignScenario.campaign_id == campaign_id))
            db.session.expunge_all()
        return row if row is not None and row.status is S.READY else None

    return wait_for(ready)


def _box(client, row, **headers):
    return client.get(
        f"/make/campaigns/{row.campaign_id}/scenarios/{row.id}", headers={"HX-Request": "true", **headers}
    )


def _test_in_make(client, row):
    return client.post(
        f"/make/campaigns/{row.campaign_id}/scenarios/{row.id}/dry-run",
        headers={"HX-Request": "true"},
        data={"csrf_token": csrf_token(client, f"/campaigns/{row.campaign_id}")},
    )


def test_test_in_make_is_verified_end_to_end_and_the_row_says_when(app, emulator, editor):
    row = _ready_scenario(app, emulator)
    page = editor.get(f"/campaigns/{row.campaign_id}").get_data(as_text=True)
    assert f'hx-get="/make/campaigns/{row.campaign_id}/scenarios/{row.id}"' in page
    first = _box(editor, row)
    assert first.status_code == 286 and "Not tested in Make yet." in first.get_data(as_text=True)
    sent = _test_in_make(editor, row)
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200 and 'hx-trigger="every 2s"' in html and "Testing in Make" in html

    def answered():
        response = _box(editor, row)
        return response if response.status_code == 286 else None

    settled = wait_for(answered, timeout=20, interval=0.2)
    assert 'data-dry-run="verified"' in settled.get_data(as_text=True)
    assert "Verified in Make" in settled.get_data(as_text=True)
    with app.app_context():
        verified_at = db.session.get(CampaignScenario, row.id).verified_at
    assert verified_at is not None
    french = _box(editor, row, **{"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Vérifié dans Make" in french
    [delivery] = emulator.inspect(f"deliveries?delivery_id=dry-{row.id}")["deliveries"]
    assert re.fullmatch(rf"dry-{row.id}-[0-9a-f]{{32}}", delivery["idempotency_key"])
    assert emulator.inspect("stats")["posts"] == 0  # nothing was published
    [callback] = emulator.inspect(f"callbacks?delivery_id=dry-{row.id}")["callbacks"]
    body = json.loads(callback["body"])
    assert callback["status_code"] == 200 and body["status"] == "dry_run_ok"
    assert body["idempotency_key"] == delivery["idempotency_key"]


def test_the_key_is_stored_for_an_hour_before_the_message_leaves(app, emulator, editor):
    row = _ready_scenario(app, emulator)
    emulator.knobs(callback_delay=5)  # Make sits on it: the key is there meanwhile
    _test_in_make(editor, row)
    with app.app_context():
        stored = redis_store.client.get(receiving.key(row.id))
        ttl = redis_store.client.ttl(receiving.key(row.id))
    assert re.fullmatch(rf"dry-{row.id}-[0-9a-f]{{32}}", stored) and 3590 < ttl <= 3600
    assert 'data-dry-run="waiting"' in _box(editor, row).get_data(as_text=True)
    emulator.knobs(callback_delay=0)


def test_no_answer_within_the_timeout_says_what_it_means(app, emulator, editor):
    row = _ready_scenario(app, emulator)
    emulator.knobs(drop_callbacks=True)
    try:
        _test_in_make(editor, row)
        assert _box(editor, row).status_code == 200  # still waiting: the page polls
        time.sleep(2.5)  # MAKE_DRY_RUN_TIMEOUT_S=2 in this module
        response = _box(editor, row)
    finally:
        emulator.knobs(drop_callbacks=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 286 and 'data-dry-run="timed_out"' in html
    assert "did not answer the dry run within 2 seconds" in html
    assert "callback did not reach the CMS" in html


def test_a_webhook_that_refuses_the_dry_run_is_reported(app, emulator, editor):
    row = _ready_scenario(app, emulator)
    emulator._http.post(f"/_emulator/hooks/{row.make_hook_id}/expire").raise_for_status()
    _test_in_make(editor, row)

    def failed():
        response = _box(editor, row)
        return response if 'data-dry-run="failed"' in response.get_data(as_text=True) else None

    html = wait_for(failed, timeout=20, interval=0.2).get_data(as_text=True)
    assert "The dry run could not be sent: HTTP 410" in html


def test_only_a_ready_scenario_takes_a_dry_run(app, emulator, editor):
    row = _ready_scenario(app, emulator)
    with app.app_context():
        campaigns.archive_campaign(campaigns.get_or_404(row.campaign_id), actor=None)
        db.session.commit()
    refused = _test_in_make(editor, row)
    assert refused.status_code == 409 and "dry-run-button" not in refused.get_data(as_text=True)
    with app.app_context():
        assert redis_store.client.get(receiving.key(row.id)) is None


def test_the_payload_has_the_publication_shape_with_nothing_to_publish(app, emulator):
    row = _ready_scenario(app, emulator)
    with app.app_context(), app.test_request_context():
        scenario = db.session.get(CampaignScenario, row.id)
        body = dry_run.payload(scenario, f"dry-{row.id}-{'0' * 32}")
    assert set(body) == {
        "delivery_id",
        "idempotency_key",
        "attempt",
        "fingerprint",
        "dry_run",
        "campaign",
        "object",
        "platform",
        "account_identifier",
        "text",
        "link",
        "media",
        "callback_url",
        "sent_at",
    }
    assert body["media"] == [] and body["callback_url"].endswith("/hooks/make")
    assert body["platform"] == "instagram" and body["campaign"]["id"] == row.campaign_id
