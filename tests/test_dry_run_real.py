"""The dry run against a real Make account, as a contract test (docs/make-operations.md,
"The dry run on a real account").

`run_dry_run()` does what an installation does the first time: the CMS is served on
MAKE_TEST_LISTEN_PORT with PUBLIC_BASE_URL = MAKE_TEST_PUBLIC_URL (Make must reach it, e.g.
through a tunnel), with a Dramatiq worker; an account is registered, a campaign targets it, the
worker provisions a hook and a scenario from the repo's rendered blueprint (validated, created,
read back), the dry run is sent, and the test waits for Make's signed `dry_run_ok` to mark the
scenario verified. Nothing may have been written to the Data Store under the dry run's key (the
dry-run route posts nothing). The scenario and the hook are deleted at the end, whatever happened.

`test_the_dry_run_on_a_real_account` runs it when every MAKE_TEST_* variable below is set and is
skipped otherwise. `test_the_real_account_path_runs_against_the_emulator` runs the very same
function with those variables pointed at the Make emulator, so the path is exercised here too.
"""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from app.campaigns import service as campaigns
from app.campaigns.provisioning import render_blueprint, scenario_name
from app.extensions import db, redis_store
from app.hooks import dry_run as receiving
from app.integrations import blueprints, make
from app.integrations import dry_run
from app.models import CampaignScenario, Platform, ScenarioStatus
from app.platforms import service as accounts
from sandbox.make import emulator_of
from sandbox.server import BackgroundServer
from tests.make_sandbox import CONNECTIONS, ORGANIZATION, TEAM, TOKEN, ServedEmulator, emulated_app, wait_for

REAL_SETTINGS = (
    "MAKE_TEST_TOKEN",
    "MAKE_TEST_BASE_URL",
    "MAKE_TEST_TEAM_ID",
    "MAKE_TEST_ORGANIZATION_ID",
    "MAKE_TEST_DATASTORE_ID",
    "MAKE_TEST_CONNECTION_ID",
    "MAKE_TEST_PLATFORM",
    "MAKE_TEST_ACCOUNT_IDENTIFIER",
    "MAKE_TEST_PUBLIC_URL",
    "MAKE_TEST_LISTEN_PORT",
)
NO_REAL = (
    "no real Make account for the dry run: set "
    + ", ".join(REAL_SETTINGS)
    + " (a Data Store with text fields external_id and external_url, a connection of "
    "MAKE_TEST_PLATFORM's app and the page or account id it publishes to, and a public "
    "https URL that reaches this machine's MAKE_TEST_LISTEN_PORT, e.g. a tunnel)"
)
PROVISION_TIMEOUT_S = 120
ANSWER_TIMEOUT_S = 180
S = ScenarioStatus


@dataclass
class Outcome:
    """What the run did in Make, for the caller's own checks (all deleted by then)."""

    scenario_id: int
    make_scenario_id: int
    make_hook_id: int
    idempotency_key: str


def real_settings(environ) -> dict | None:
    """The MAKE_TEST_* values, or None when any is missing."""
    if not all(environ.get(name) for name in REAL_SETTINGS):
        return None
    return {name: environ[name] for name in REAL_SETTINGS}


def run_dry_run(servers, env: dict) -> Outcome:
    platform = env["MAKE_TEST_PLATFORM"]
    assert blueprints.native_supported(platform), (
        f"MAKE_TEST_PLATFORM={platform!r}: the repo renders a blueprint only for "
        f"{', '.join(blueprints.NATIVE_PLATFORMS)}"
    )
    # A fresh secret, and a MAKE_ENV of its own so the names of this run's hook and scenario
    # cannot meet those of an earlier run on the same account (campaign ids restart at 1).
    settings = {
        "MAKE_BASE_URL": env["MAKE_TEST_BASE_URL"],
        "MAKE_API_TOKEN": env["MAKE_TEST_TOKEN"],
        "MAKE_TEAM_ID": env["MAKE_TEST_TEAM_ID"],
        "MAKE_ORGANIZATION_ID": env["MAKE_TEST_ORGANIZATION_ID"],
        "MAKE_DATASTORE_ID": env["MAKE_TEST_DATASTORE_ID"],
        "MAKE_CALLBACK_SECRET": secrets.token_hex(33),
        "MAKE_ENV": f"contract-{uuid.uuid4().hex[:8]}",
    }
    with (
        emulated_app(servers, settings, worker_threads=2) as app,
        BackgroundServer(app, port=int(env["MAKE_TEST_LISTEN_PORT"])),
    ):
        app.config["PUBLIC_BASE_URL"] = env["MAKE_TEST_PUBLIC_URL"].rstrip("/")
        names: list[str] = []
        try:
            return _dry_run(app, env, names)
        finally:
            _delete_what_was_created(app, names)


def _dry_run(app, env: dict, names: list[str]) -> Outcome:
    with app.app_context():
        account = accounts.create_account(
            Platform(env["MAKE_TEST_PLATFORM"]),
            label=f"Contract {uuid.uuid4().hex[:4]}",
            make_connection_id=int(env["MAKE_TEST_CONNECTION_ID"]),
            account_identifier=env["MAKE_TEST_ACCOUNT_IDENTIFIER"],
            template_scenario_id=None,
        )
        campaign = campaigns.create_campaign(
            name="Dry run contract", description="", starts_on=None, ends_on=None, account_ids=[account.id], actor=None
        )
        db.session.commit()  # the worker provisions the campaign's scenario after this
        campaign_id = campaign.id
        names.append(
            scenario_name(
                db.session.scalar(sa.select(CampaignScenario).where(CampaignScenario.campaign_id == campaign_id))
            )
        )

    def settled():
        with app.app_context():
            row = db.session.scalar(sa.select(CampaignScenario).where(CampaignScenario.campaign_id == campaign_id))
            db.session.expunge_all()
        return row if row.status in (S.READY, S.FAILED) else None

    row = wait_for(settled, timeout=PROVISION_TIMEOUT_S, interval=0.5)
    assert row.status is S.READY, f"provisioning failed: {row.last_error}"

    with app.app_context(), accounts.make_client() as client:
        scenario = db.session.get(CampaignScenario, row.id)
        found = client.get_scenario(row.make_scenario_id)
        assert found.get("isActive") and not found.get("isinvalid"), found
        stored = client.get_blueprint(row.make_scenario_id)
        rendered = render_blueprint(
            env["MAKE_TEST_PLATFORM"],
            hook_id=row.make_hook_id,
            connection_id=int(env["MAKE_TEST_CONNECTION_ID"]),
            name=names[0],
        )
        assert _modules(stored) == _modules(rendered)  # Make keeps the repo's blueprint
        idempotency_key = dry_run.request(scenario, actor=None)
        db.session.commit()  # the worker posts the hook after this

    def verified():
        with app.app_context():
            verified_at = db.session.get(CampaignScenario, row.id).verified_at
            failed = dry_run.state(db.session.get(CampaignScenario, row.id)).error
            db.session.expunge_all()
        assert failed is None, f"the dry run could not be sent: {failed}"
        return verified_at

    try:
        wait_for(verified, timeout=ANSWER_TIMEOUT_S, interval=1)
    except AssertionError as exc:
        raise AssertionError(
            f"no dry_run_ok within {ANSWER_TIMEOUT_S} s ({exc}): the scenario "
            f"{row.make_scenario_id} did not run, or its callback did not reach "
            f"{app.config['PUBLIC_BASE_URL']}; Make's scenario history tells "
            "which"
        ) from None

    with app.app_context():
        assert dry_run.state(db.session.get(CampaignScenario, row.id)).status == "verified"
        assert redis_store.client.get(receiving.key(row.id)) is None  # the key is spent
    assert idempotency_key not in _data_store_keys(env)  # the dry-run route wrote nothing
    return Outcome(row.id, row.make_scenario_id, row.make_hook_id, idempotency_key)


def _modules(blueprint: dict) -> list[tuple]:
    return [(m.get("id"), m.get("module"), m.get("version")) for m in blueprint["flow"]]


def _data_store_keys(env: dict) -> set[str]:
    """Every record key of the Data Store (`GET /data-stores/{id}/data`, Make's API reference),
    read with the token, not through the CMS."""
    keys: set[str] = set()
    with httpx.Client(
        base_url=env["MAKE_TEST_BASE_URL"].rstrip("/"),
        trust_env=False,
        headers={"Authorization": f"Token {env['MAKE_TEST_TOKEN']}"},
        timeout=30,
    ) as http:
        offset = 0
        while True:
            answer = http.get(
                f"/data-stores/{env['MAKE_TEST_DATASTORE_ID']}/data", params={"pg[offset]": offset, "pg[limit]": 100}
            )
            assert answer.status_code == 200, answer.text
            records = answer.json()["records"]
            keys.update(record["key"] for record in records)
            if len(records) < 100:
                return keys
            offset += 100


def _delete_what_was_created(app, names: list[str]) -> None:
    """The scenario (stopped first) and its hook, found by the row's ids or by their names;
    each step on its own, so that one failure does not leave the rest behind."""
    with app.app_context(), accounts.make_client() as client:
        rows = db.session.scalars(sa.select(CampaignScenario)).all()
        scenario_ids = {row.make_scenario_id for row in rows if row.make_scenario_id}
        hook_ids = {row.make_hook_id for row in rows if row.make_hook_id}
        for name in names:
            for find, ids in ((client.find_scenario, scenario_ids), (client.find_hook, hook_ids)):
                try:
                    if found := find(name):
                        ids.add(found["id"])
                except make.MakeError:
                    pass
        for scenario_id in scenario_ids:
            for step in (client.stop_scenario, client.delete_scenario):
                try:
                    step(scenario_id)
                except make.MakeNotFound:
                    break
                except make.MakeError:
                    pass
        for hook_id in hook_ids:
            try:
                client.delete_hook(hook_id)
            except make.MakeNotFound:
                pass


def test_the_dry_run_on_a_real_account(servers):
    env = real_settings(os.environ)
    if env is None:
        pytest.skip(NO_REAL)
    run_dry_run(servers, env)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_real_account_path_runs_against_the_emulator(servers, monkeypatch):
    emulator = ServedEmulator()
    try:
        port = _free_port()
        emulated = {
            "MAKE_TEST_TOKEN": TOKEN,
            "MAKE_TEST_BASE_URL": f"{emulator.url}/api/v2",
            "MAKE_TEST_TEAM_ID": str(TEAM),
            "MAKE_TEST_ORGANIZATION_ID": str(ORGANIZATION),
            "MAKE_TEST_DATASTORE_ID": "1",
            "MAKE_TEST_PLATFORM": "facebook",
            "MAKE_TEST_CONNECTION_ID": str(CONNECTIONS["facebook"]),
            "MAKE_TEST_ACCOUNT_IDENTIFIER": "104563892734561",
            "MAKE_TEST_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "MAKE_TEST_LISTEN_PORT": str(port),
        }
        for name, value in emulated.items():
            monkeypatch.setenv(name, value)
        env = real_settings(os.environ)
        assert env == emulated
        outcome = run_dry_run(servers, env)
        # What the real-account run cannot see, the emulator shows: the hook was posted once,
        # the callback reached the CMS and was accepted, nothing was published...
        [delivery] = emulator.inspect(f"deliveries?delivery_id=dry-{outcome.scenario_id}")["deliveries"]
        assert delivery["idempotency_key"] == outcome.idempotency_key
        [callback] = emulator.inspect(f"callbacks?delivery_id=dry-{outcome.scenario_id}")["callbacks"]
        assert callback["status_code"] == 200 and '"dry_run_ok"' in callback["body"]
        assert emulator.inspect("stats")["posts"] == 0
        # ...and nothing the run created is left in the account.
        assert outcome.make_scenario_id not in {s["id"] for s in emulator.scenarios()}
        assert outcome.make_hook_id not in {h["id"] for h in emulator.hooks()}
        assert emulator.scenarios() == [] and emulator.hooks() == []
    finally:
        emulator.stop()


def test_the_data_store_read_sees_a_published_key(servers):
    """The "nothing was written" check would pass vacuously if it could not see records: a key
    written by a real publication run is listed."""
    emulator = ServedEmulator()
    try:
        env = {"MAKE_TEST_TOKEN": TOKEN, "MAKE_TEST_BASE_URL": f"{emulator.url}/api/v2", "MAKE_TEST_DATASTORE_ID": "1"}
        with emulator_of(emulator.app).state.change() as data:  # as AddRecord writes it
            data["datastore"]["pub-1-abc"] = {"external_id": "1", "external_url": "https://x"}
        assert _data_store_keys(env) == {"pub-1-abc"}
    finally:
        emulator.stop()
