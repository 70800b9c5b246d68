"""Scenario provisioning end to end: real Redis broker, a Dramatiq worker, the Make emulator and
committed data in a database of this module's own."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.campaigns import provisioning
from app.campaigns import service as campaigns
from app.extensions import db
from app.integrations import blueprints, checks, make
from app.models import AccountTestStatus, AuditEvent, CampaignScenario, Platform, Role, ScenarioStatus, SocialAccount
from app.platforms import service as accounts
from app.tasks.campaigns import provision_scenario, scenario_provisioning_gave_up
from tests.conftest import csrf_token
from tests.make_sandbox import CONNECTIONS, SECRET, RecordingProxy, ServedEmulator, emulated_app, signed_in, wait_for
from tests.make_templates import contract_template, http_post, instagram_photo

S = ScenarioStatus


@pytest.fixture(scope="module")
def emulator():
    served = ServedEmulator()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def app(servers, emulator):
    with emulated_app(servers, emulator.settings(), worker_threads=4) as app:
        yield app


@pytest.fixture(autouse=True)
def fresh_emulator(emulator):
    emulator.reset()


@pytest.fixture
def proxy(emulator):
    """Between the CMS and the emulator, to see which calls were made in which order."""
    recording = RecordingProxy(emulator.url)
    yield recording
    recording.stop()


def _accounts(app, *platforms: str, template: int | None = None) -> list[int]:
    with app.app_context():
        made = [
            accounts.create_account(
                Platform(platform),
                label=f"{platform} {uuid.uuid4().hex[:4]}",
                make_connection_id=CONNECTIONS[platform],
                template_scenario_id=template,
                account_identifier=str(uuid.uuid4().int)[:17]
                if platform != "youtube"
                else "UC" + uuid.uuid4().hex[:22],
            )
            for platform in platforms
        ]
        db.session.commit()
        return [account.id for account in made]


def _campaign(app, account_ids: list[int]) -> int:
    with app.app_context():
        campaign = campaigns.create_campaign(
            name="Salon", description="", starts_on=None, ends_on=None, account_ids=account_ids, actor=None
        )
        db.session.commit()
        return campaign.id


def _rows(app, campaign_id: int) -> list[CampaignScenario]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(CampaignScenario).where(CampaignScenario.campaign_id == campaign_id).order_by(CampaignScenario.id)
        ).all()
        db.session.expunge_all()
        return rows


def _settle(app, campaign_id: int, status: ScenarioStatus, count: int, timeout=20.0):
    def settled():
        rows = _rows(app, campaign_id)
        return rows if len(rows) == count and all(r.status is status for r in rows) else None

    return wait_for(settled, timeout)


def test_three_accounts_give_three_ready_scenarios_each_with_its_hook(app, emulator):
    ids = _accounts(app, "instagram", "facebook", "linkedin")
    campaign_id = _campaign(app, ids)
    rows = _settle(app, campaign_id, S.READY, 3)
    scenarios, hooks = emulator.scenarios(), {h["id"]: h for h in emulator.hooks()}
    assert len(scenarios) == 3 and len(hooks) == 3
    by_id = {s["id"]: s for s in scenarios}
    for row in rows:
        scenario = by_id[row.make_scenario_id]
        assert scenario["isActive"] is True and scenario["hookId"] == row.make_hook_id
        assert hooks[row.make_hook_id]["scenarioId"] == scenario["id"]
        assert row.webhook_url == hooks[row.make_hook_id]["url"]
        assert row.webhook_url.endswith(row.make_hook_udid) and row.last_error is None
        assert (
            scenario["name"]
            == f"cms-test-c{campaign_id}-a{row.social_account_id}-"
            + {ids[0]: "instagram", ids[1]: "facebook", ids[2]: "linkedin"}[row.social_account_id]
        )
    blueprint = emulator.api(f"/scenarios/{rows[0].make_scenario_id}/blueprint")["response"]["blueprint"]
    assert blueprints.bindings(blueprint) == (rows[0].make_hook_id, {CONNECTIONS["instagram"]})
    assert SECRET in json.dumps(blueprint)
    with app.app_context():
        ready = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "scenario_ready", AuditEvent.subject_id.in_([r.id for r in rows]))
        )
    assert ready == 3


def test_the_same_message_delivered_twice_still_makes_three_scenarios(app, emulator):
    campaign_id = _campaign(app, _accounts(app, "instagram", "linkedin", "youtube"))
    for row in _rows(app, campaign_id):  # duplicates, raced by the worker's four threads
        provision_scenario.send(row.id)
        provision_scenario.send(row.id)
    rows = _settle(app, campaign_id, S.READY, 3)
    with app.app_context():  # and once more, in process, after it settled
        provisioning.provision(rows[0].id)
    assert len(emulator.scenarios()) == 3 and len(emulator.hooks()) == 3
    assert {s["id"] for s in emulator.scenarios()} == {r.make_scenario_id for r in rows}


def test_make_refusing_ends_failed_with_the_error_and_retry_makes_it_ready(app, emulator):
    ids = _accounts(app, "youtube")
    emulator.knobs(api_fail_status=400, api_fail_count=1)
    campaign_id = _campaign(app, ids)
    [row] = _settle(app, campaign_id, S.FAILED, 1)
    assert "Make 400 SC400" in row.last_error and "Forced failure 400" in row.last_error
    client = signed_in(app, Role.EDITOR)
    response = client.post(
        f"/campaigns/{campaign_id}/scenarios/{row.id}/retry",
        data={"csrf_token": csrf_token(client, f"/campaigns/{campaign_id}")},
    )
    assert response.status_code == 303
    [row] = _settle(app, campaign_id, S.READY, 1)
    assert row.last_error is None and emulator.scenarios()[0]["isActive"] is True


def test_a_transient_503_is_absorbed_by_the_client(app, emulator):
    emulator.knobs(api_fail_status=503, api_fail_count=1)
    _settle(app, _campaign(app, _accounts(app, "facebook")), S.READY, 1)


def test_a_rate_limited_make_is_retried_later_then_reported(app, emulator):
    """Retryable errors stay `provisioning` with the reason shown, re-raised for Dramatiq;
    when Dramatiq gives up, the row is `failed` with that reason."""
    ids = _accounts(app, "instagram")
    with app.app_context():
        campaign = campaigns.create_campaign(
            name="Busy", description="", starts_on=None, ends_on=None, account_ids=[], actor=None
        )
        row = CampaignScenario(campaign=campaign, social_account_id=ids[0])
        db.session.add(row)
        db.session.commit()  # no message: this test drives the service itself
        row_id = row.id
        emulator.knobs(force_429=True, retry_after=1)
        with pytest.raises(make.MakeRateLimited):
            provisioning.provision(row_id)
        db.session.remove()
        row = db.session.get(CampaignScenario, row_id)
        assert row.status is S.PROVISIONING and "429" in row.last_error
        scenario_provisioning_gave_up({"args": [row_id]}, {"retries": 8, "max_retries": 8})
        db.session.remove()
        row = db.session.get(CampaignScenario, row_id)
        assert row.status is S.FAILED and "429" in row.last_error


def test_a_run_that_died_after_creating_the_hook_resumes_without_a_second_one(app, emulator):
    [account_id] = _accounts(app, "linkedin")
    with app.app_context():
        campaign = campaigns.create_campaign(
            name="Resume", description="", starts_on=None, ends_on=None, account_ids=[], actor=None
        )
        row = CampaignScenario(campaign=campaign, social_account_id=account_id)
        db.session.add(row)
        db.session.commit()
        row_id = row.id
        with accounts.make_client() as client:  # what the dead run had created in Make
            orphan = client.create_hook(provisioning.scenario_name(row))
        provisioning.provision(row_id)
        db.session.remove()
        row = db.session.get(CampaignScenario, row_id)
        assert row.status is S.READY and row.make_hook_id == orphan["id"]
    assert [h["id"] for h in emulator.hooks()] == [orphan["id"]]


def test_archive_and_removal_stop_the_scenarios_in_make(app, emulator):
    ids = _accounts(app, "instagram", "facebook", "linkedin")
    campaign_id = _campaign(app, ids)
    _settle(app, campaign_id, S.READY, 3)
    with app.app_context():
        campaign = campaigns.get_or_404(campaign_id)
        campaigns.update_campaign(
            campaign, name="Salon", description="", starts_on=None, ends_on=None, account_ids=ids[1:], actor=None
        )
        db.session.commit()
    wait_for(lambda: sum(s["isActive"] for s in emulator.scenarios()) == 2)
    with app.app_context():
        campaigns.archive_campaign(campaigns.get_or_404(campaign_id), actor=None)
        db.session.commit()
    wait_for(lambda: not any(s["isActive"] for s in emulator.scenarios()))
    rows = _rows(app, campaign_id)
    assert {r.status for r in rows} == {S.STOPPED} and len(emulator.scenarios()) == 3


def _template(app, blueprint_of_hook, name="template-instagram") -> int:
    """A template scenario in Make, as an account's owner would have built it."""
    with app.app_context(), accounts.make_client() as client:
        hook = client.create_hook(name)
        return client.create_scenario({**blueprint_of_hook(hook["id"]), "name": name})["id"]


def _instagram_template(app) -> int:
    return _template(
        app, lambda hook: contract_template(instagram_photo(CONNECTIONS["instagram"]), secret=SECRET, hook_id=hook)
    )


def _problems(app, row_id: int) -> list[str]:
    with app.app_context():
        check = checks.last("scenario", row_id)
        return [problem["rule"] for problem in check.results["problems"]] if check else []


def test_an_account_with_a_template_gets_a_clone(app, emulator):
    template = _instagram_template(app)
    ids = _accounts(app, "instagram", template=template)
    [row] = _settle(app, _campaign(app, ids), S.READY, 1)
    assert row.make_template_id == template and row.make_scenario_id != template
    blueprint = emulator.api(f"/scenarios/{row.make_scenario_id}/blueprint")["response"]["blueprint"]
    assert blueprints.bindings(blueprint) == (row.make_hook_id, {CONNECTIONS["instagram"]})
    assert _problems(app, row.id) == []


def test_a_template_that_breaks_the_contract_is_refused_with_each_problem(app, emulator):
    """The public export of a real scenario (RSS to social networks) named as a template."""
    export = json.loads(
        (Path(__file__).parent / "fixtures/make/rss-to-social.blueprint.json").read_text(encoding="utf-8")
    )
    with app.app_context(), accounts.make_client() as client:
        template = client.create_scenario(export)["id"]
    [row] = _settle(app, _campaign(app, _accounts(app, "linkedin", template=template)), S.FAILED, 1)
    assert row.last_error == (
        f"template scenario {template} does not follow the CMS's contract (7 problems, listed below)"
    )
    assert _problems(app, row.id) == [
        "trigger",
        "dedupe_missing",
        "callback_published",
        "callback_failed",
        "callback_dry_run",
        "dry_run_unguarded",
        "unknown_fields",
    ]
    assert [s["id"] for s in emulator.scenarios()] == [template]  # nothing cloned


def test_what_makes_validation_refuses_is_not_created(app, emulator):
    unknown = {**instagram_photo(CONNECTIONS["tiktok"]), "module": "tiktok:CreateVideoPost"}
    template = _template(app, lambda hook: contract_template(unknown, secret=SECRET, hook_id=hook))
    [row] = _settle(app, _campaign(app, _accounts(app, "tiktok", template=template)), S.FAILED, 1)
    assert row.last_error.startswith(f"Make's validation refused template scenario {template} (")
    assert _problems(app, row.id) == ["make"]
    with app.app_context():
        [problem] = checks.last("scenario", row.id).results["problems"]
    assert "tiktok:CreateVideoPost does not exist" in problem["params"]["problem"]
    assert len(emulator.scenarios()) == 1


def test_where_the_zone_has_no_validation_it_is_skipped_with_a_notice(app, emulator, caplog):
    emulator.knobs(validate_endpoint=False)
    template = _instagram_template(app)
    with caplog.at_level(logging.INFO):
        _settle(app, _campaign(app, _accounts(app, "instagram", template=template)), S.READY, 1)
    assert "blueprint validation is not offered here (403)" in caplog.text


def test_a_scenario_make_marks_invalid_fails_with_the_reason_and_is_removed(app, emulator):
    template = _instagram_template(app)
    ids = _accounts(app, "instagram", template=template)
    with app.app_context():  # a connection that is not (or no longer) in the team
        db.session.get(SocialAccount, ids[0]).make_connection_id = 4242
        db.session.commit()
    [row] = _settle(app, _campaign(app, ids), S.FAILED, 1)
    assert row.last_error.startswith("Make marks scenario ") and row.last_error.endswith(" invalid")
    assert row.make_scenario_id is None and [s["id"] for s in emulator.scenarios()] == [template]


def test_the_account_test_checks_the_connection_and_the_template(app, emulator):
    good, missing = _accounts(app, "facebook"), _accounts(app, "x")
    bad_template = _accounts(app, "tiktok", template=999)
    with app.app_context():
        db.session.get(SocialAccount, missing[0]).make_connection_id = 4242
        for account_id in (*good, *missing, *bad_template):
            accounts.request_test(db.session.get(SocialAccount, account_id), actor=None)
        db.session.commit()

    def results():
        with app.app_context():
            found = {a.id: a for a in db.session.scalars(sa.select(SocialAccount))}
            db.session.expunge_all()
        done = [found[i] for i in (*good, *missing, *bad_template)]
        return done if all(a.test_settled for a in done) else None

    ok, lost, no_template = wait_for(results)
    assert ok.test_status is AccountTestStatus.OK and "connection 78" in ok.test_message
    assert lost.test_status is AccountTestStatus.FAILED and "4242 not found" in lost.test_message
    assert no_template.test_status is AccountTestStatus.FAILED
    assert "template scenario 999 does not exist" in no_template.test_message


def _tested(app, *account_ids):
    with app.app_context():
        for account_id in account_ids:
            accounts.request_test(db.session.get(SocialAccount, account_id), actor=None)
        db.session.commit()

    def results():
        with app.app_context():
            found = [db.session.get(SocialAccount, i) for i in account_ids]
            settled = all(a.test_settled for a in found)
            outcome = (
                [(a.test_status, a.test_message, checks.last("account", a.id).results) for a in found]
                if settled
                else None
            )
            db.session.expunge_all()
        return outcome

    return wait_for(results)


def test_the_account_test_checks_the_template_the_connection_type_and_sends_a_dry_run(app, emulator):
    export = json.loads(
        (Path(__file__).parent / "fixtures/make/rss-to-social.blueprint.json").read_text(encoding="utf-8")
    )
    with app.app_context(), accounts.make_client() as client:
        exported = client.create_scenario(export)["id"]
    [broken] = _accounts(app, "linkedin", template=exported)
    [wrong_type] = _accounts(app, "instagram")
    with app.app_context():  # a LinkedIn connection given to an Instagram account
        db.session.get(SocialAccount, wrong_type).make_connection_id = CONNECTIONS["linkedin"]
        db.session.commit()
    [good] = _accounts(app, "instagram", template=_instagram_template(app))
    [row] = _settle(app, _campaign(app, [good]), S.READY, 1)
    (b_status, b_message, b_results), (w_status, w_message, _), (g_status, _, g_results) = _tested(
        app, broken, wrong_type, good
    )
    assert b_status is AccountTestStatus.FAILED and "the template breaks 7 rule(s)" in b_message
    assert [p["rule"] for p in b_results["problems"]][:2] == ["trigger", "dedupe_missing"]
    assert w_status is AccountTestStatus.FAILED
    assert "needs a connection of type facebook" in w_message
    assert g_status is AccountTestStatus.OK and g_results["problems"] == []
    assert g_results["dry_run"] == {"scenario_id": row.id, "campaign_id": row.campaign_id}
    wait_for(lambda: emulator.inspect(f"deliveries?delivery_id=dry-{row.id}")["deliveries"])


def test_cli_renders_a_blueprint_and_rerenders_ready_scenarios(app, emulator, proxy):
    runner = app.test_cli_runner()
    printed = runner.invoke(
        args=["make", "render-blueprint", "--platform", "instagram", "--hook", "1", "--connection", "2"]
    )
    assert printed.exit_code == 0, printed.output
    assert blueprints.bindings(json.loads(printed.output)) == (1, {2})
    with app.app_context():  # earlier tests' rows: their scenarios went with the emulator's reset
        db.session.execute(sa.update(CampaignScenario).values(status=S.STOPPED))
        db.session.execute(sa.update(SocialAccount).values(active=False))
        db.session.commit()
    template = _template(
        app,
        lambda hook: contract_template(
            http_post("https://api.x.com/2/tweets"), secret=SECRET, hook_id=hook, external_id="{{10.data.id}}"
        ),
        name="template-x",
    )
    ours = _accounts(app, "instagram")
    clone = _accounts(app, "x", template=template)
    rows = _settle(app, _campaign(app, ours + clone), S.READY, 2)
    new_secret = "0d" * 32
    app.config.update(MAKE_CALLBACK_SECRET=new_secret, MAKE_CALLBACK_SECRET_PREVIOUS=SECRET, MAKE_BASE_URL=proxy.url)
    try:
        result = runner.invoke(args=["make", "rerender-scenarios"])
    finally:
        app.config.update(
            MAKE_CALLBACK_SECRET=SECRET,
            MAKE_CALLBACK_SECRET_PREVIOUS=None,
            MAKE_BASE_URL=emulator.settings()["MAKE_BASE_URL"],
        )
    assert result.exit_code == 0 and "3 scenario(s) updated" in result.output, result.output
    for scenario_id in (rows[0].make_scenario_id, rows[1].make_scenario_id, template):
        blueprint = json.dumps(emulator.api(f"/scenarios/{scenario_id}/blueprint"))
        assert new_secret in blueprint and SECRET not in blueprint
    assert rows[1].make_template_id == template
    for row in rows:  # each campaign scenario stopped, patched, started again; the template patched
        calls = [
            call for call in proxy.calls if f"/scenarios/{row.make_scenario_id}" in call and not call.startswith("GET")
        ]
        assert calls == [
            f"POST /api/v2/scenarios/{row.make_scenario_id}/stop",
            f"PATCH /api/v2/scenarios/{row.make_scenario_id}",
            f"POST /api/v2/scenarios/{row.make_scenario_id}/start",
        ]
    assert [c for c in proxy.calls if f"/scenarios/{template}" in c and not c.startswith("GET")] == [
        f"PATCH /api/v2/scenarios/{template}"
    ]
    assert all(s["isActive"] for s in emulator.scenarios() if s["id"] != template)
    without_previous = runner.invoke(args=["make", "rerender-scenarios"])
    assert without_previous.exit_code == 1 and "MAKE_CALLBACK_SECRET_PREVIOUS" in without_previous.output
