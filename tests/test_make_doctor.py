"""`flask make doctor` against the Make emulator: every check passes on a sound installation;
with the Data Store deleted, a connection removed or a scenario's blueprint edited by hand, it
names the failure and exits non-zero. The admin page and the publishing page show the last
report; the scheduler runs it. A database of this module's own; scenarios provisioned in
process (no worker needed)."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
import sqlalchemy as sa

from app.campaigns import provisioning
from app.campaigns import service as campaigns
from app.extensions import db
from app.integrations import doctor
from app.models import CampaignScenario, Platform, Role, ScenarioStatus, SocialAccount
from app.models.base import utcnow
from app.platforms import service as accounts
from app.scheduler import JOBS
from tests.conftest import csrf_token
from tests.make_sandbox import CONNECTIONS, SECRET, TOKEN, ServedEmulator, emulated_app, signed_in
from tests.make_templates import contract_template, instagram_photo, modules


@pytest.fixture(scope="module")
def emulator():
    served = ServedEmulator(
        scoped_tokens={
            "00000000-0000-4000-8000-0000000000c2": (),
            "00000000-0000-4000-8000-0000000000c3": ("connections:read", "hooks:read"),
        }
    )
    yield served
    served.stop()


@pytest.fixture(scope="module")
def app(servers, emulator):
    with emulated_app(servers, emulator.settings()) as app:
        yield app


@pytest.fixture(autouse=True)
def installation(app, emulator):
    """A sound installation: two accounts (one with a template), their campaign scenarios
    provisioned in the emulator, both verified by a dry run."""
    emulator.reset()
    with app.app_context():
        db.session.execute(sa.delete(CampaignScenario))
        db.session.execute(sa.update(SocialAccount).values(active=False))
        db.session.commit()
        with accounts.make_client() as client:
            hook = client.create_hook("template-instagram")
            template = client.create_scenario(
                contract_template(
                    instagram_photo(CONNECTIONS["instagram"]),
                    secret=SECRET,
                    hook_id=hook["id"],
                    name="template-instagram",
                )
            )["id"]
        made = [
            accounts.create_account(
                platform,
                label=f"{platform.value} {uuid.uuid4().hex[:4]}",
                template_scenario_id=tpl,
                make_connection_id=CONNECTIONS[platform.value],
                account_identifier=str(uuid.uuid4().int)[:17],
            )
            for platform, tpl in ((Platform.INSTAGRAM, template), (Platform.FACEBOOK, None))
        ]
        campaign = campaigns.create_campaign(
            name="Salon", description="", starts_on=None, ends_on=None, account_ids=[a.id for a in made], actor=None
        )
        db.session.commit()
        rows = list(campaign.scenarios)
        for row in rows:
            provisioning.provision(row.id)
        db.session.execute(sa.update(CampaignScenario).values(verified_at=utcnow()))
        db.session.commit()
        ids = {row.social_account.platform.value: (row.id, row.make_scenario_id) for row in rows}
        assert {row.status for row in db.session.scalars(sa.select(CampaignScenario))} == {ScenarioStatus.READY}, [
            row.last_error for row in rows
        ]
    return ids


def _doctor(app):
    """The exit status and the report's lines (the servers' log lines left out)."""
    result = app.test_cli_runner().invoke(args=["make", "doctor"])
    report = [
        line
        for line in result.output.splitlines()
        if re.match(r"(OK|NOTE|FAIL) +[a-z_]+  ", line) or "check(s)" in line
    ]
    return result.exit_code, "\n".join(report)


def _api(emulator, method: str, path: str, **kwargs) -> httpx.Response:
    response = emulator._http.request(method, f"/api/v2{path}", headers={"Authorization": f"Token {TOKEN}"}, **kwargs)
    assert response.is_success, response.text
    return response


def test_a_sound_installation_passes_every_check(app):
    code, output = _doctor(app)
    lines = output.strip().splitlines()
    assert code == 0 and lines[-1].endswith("check(s), none failed"), output
    assert not [line for line in lines if line.startswith(("FAIL", "NOTE"))], output
    checked = {line.split()[1] for line in lines[:-1]}
    assert checked == {
        "token",
        "scopes",
        "organization",
        "api_address",
        "team",
        "datastore",
        "connection",
        "scenario",
        "drift",
        "dry_run",
    }
    assert sum(line.split()[1] == "connection" for line in lines) == 2
    assert sum(line.split()[1] == "drift" for line in lines) == 2


def test_the_data_store_deleted_is_named_and_fails(app, emulator):
    _api(emulator, "DELETE", "/data-stores/1", params={"confirmed": "true"})
    code, output = _doctor(app)
    assert code == 1 and "1 check(s) failed" in output
    [line] = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert "datastore" in line and "Data Store 1:" in line and "not found" in line.lower()


def test_a_removed_connection_is_named_with_the_scenarios_it_breaks(app, emulator, installation):
    _api(emulator, "DELETE", f"/connections/{CONNECTIONS['facebook']}")
    code, output = _doctor(app)
    failing = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert code == 1 and len(failing) == 2, output
    assert f"Connection {CONNECTIONS['facebook']} of facebook" in failing[0]
    assert "does not exist in Make" in failing[0]
    scenario_id = installation["facebook"][1]
    assert f"Scenario {scenario_id} of" in failing[1] and "Make marks it invalid" in failing[1]


def test_a_blueprint_edited_by_hand_is_drift(app, emulator, installation):
    for platform, (_, scenario_id) in installation.items():
        blueprint = _api(emulator, "GET", f"/scenarios/{scenario_id}/blueprint").json()
        blueprint = blueprint["response"]["blueprint"]
        if platform == "facebook":  # a caption edited in Make's editor
            publish = next(m for m in _modules(blueprint) if m["module"].startswith("facebook-pages:"))
            publish["mapper"]["message"] = "edited by hand"
        else:  # the clone's callback no longer stops on an HTTP error
            for module in _modules(blueprint):
                module.get("mapper", {}).pop("stopOnHttpError", None) if module[
                    "module"
                ] == "http:MakeRequest" else None
        _api(
            emulator,
            "PATCH",
            f"/scenarios/{scenario_id}",
            params={"confirmed": "true"},
            json={"blueprint": json.dumps(blueprint)},
        )
    code, output = _doctor(app)
    drift = [line for line in output.splitlines() if line.startswith("FAIL") and " drift " in line]
    assert code == 1 and len(drift) == 2, output
    assert any(".mapper.message" in line for line in drift)
    assert any("stop_on_http_error" in line for line in drift)
    assert all("flask make rerender-scenarios" in line for line in drift)


def test_a_token_without_the_scopes_and_a_refused_token(app, emulator):
    app.config["MAKE_API_TOKEN"] = "00000000-0000-4000-8000-0000000000c3"
    try:
        code, output = _doctor(app)
        assert code == 1
        assert "The token lacks the scopes hooks:write, scenarios:read, scenarios:write, scenarios:run" in output
        app.config["MAKE_API_TOKEN"] = str(uuid.uuid4())
        code, output = _doctor(app)
        assert code == 1 and output.splitlines()[0].startswith("FAIL  token")
        assert len(output.strip().splitlines()) == 2  # nothing else is read with a refused token
    finally:
        app.config["MAKE_API_TOKEN"] = TOKEN


def test_the_admin_page_shows_the_last_report_and_runs_it_again(app, emulator):
    _api(emulator, "DELETE", "/data-stores/1", params={"confirmed": "true"})
    _doctor(app)
    admin = signed_in(app, Role.ADMIN, "fr")
    page = admin.get("/make/doctor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Santé de Make" in html and "Quelque chose échoue" in html
    assert 'data-check="datastore" data-status="fail"' in html
    fragment = admin.get("/make/doctor", headers={"HX-Request": "true"})
    assert fragment.status_code == 286 and b"<html" not in fragment.data
    broker = app.extensions["dramatiq"]
    broker.flush_all()
    queued = admin.post(
        "/make/doctor", headers={"HX-Request": "true"}, data={"csrf_token": csrf_token(admin, "/make/doctor")}
    )
    assert queued.status_code == 200 and 'hx-trigger="every 2s"' in queued.get_data(as_text=True)
    [message] = broker.client.hvals(f"{broker.namespace}:default.msgs")
    assert json.loads(message)["actor_name"] == "run_make_doctor"
    with app.app_context():  # what the worker does with that message
        doctor.run_and_record()
        db.session.commit()
    assert admin.get("/make/doctor", headers={"HX-Request": "true"}).status_code == 286


def test_the_publishing_page_shows_the_drift(app, emulator, installation):
    _, scenario_id = installation["facebook"]
    blueprint = _api(emulator, "GET", f"/scenarios/{scenario_id}/blueprint").json()["response"]["blueprint"]
    blueprint["metadata"]["scenario"]["sequential"] = False
    _api(
        emulator,
        "PATCH",
        f"/scenarios/{scenario_id}",
        params={"confirmed": "true"},
        json={"blueprint": json.dumps(blueprint)},
    )
    with app.app_context():
        doctor.run_and_record()
        db.session.commit()
    admin = signed_in(app, Role.ADMIN)
    assert 'hx-get="/make/drift"' in admin.get("/hooks/").get_data(as_text=True)
    drift = admin.get("/make/drift", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "no longer match what the CMS renders" in drift
    assert f"Scenario {scenario_id} of" in drift and "metadata.scenario.sequential" in drift


def test_the_scheduler_runs_the_doctor_every_day(app):
    [job] = [job for job in JOBS if job.name == "make_doctor"]
    assert app.config[job.interval_key] == 24 * 3600
    broker = app.extensions["dramatiq"]
    broker.flush_all()
    with app.app_context():
        job.run()
    [message] = broker.client.hvals(f"{broker.namespace}:default.msgs")
    assert json.loads(message)["actor_name"] == "run_make_doctor"


def _modules(blueprint):
    return list(modules(blueprint).values())


def test_make_runs_emulator_and_demo_data_pass_every_check(servers, tmp_path, monkeypatch):
    """What `make run` starts (app/embedded_make.py) and seeds (`seed_demo`), provisioned: the
    doctor finds nothing failing; only the dry runs not made yet are noted."""
    import socket

    from app.cli import seed_demo
    from app.embedded_make import MakeEmulator, new_token

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("MAKE_EMULATOR_PORT", str(sock.getsockname()[1]))
    emulator = MakeEmulator(tmp_path / "make-emulator.json", new_token()).start()
    try:
        with emulated_app(
            servers, emulator.settings(), MAKE_CALLBACK_SECRET=SECRET, MEDIA_ROOT=str(tmp_path / "media")
        ) as app:
            with app.app_context():
                seed_demo(social=True)
                for row in db.session.scalars(sa.select(CampaignScenario)).all():
                    provisioning.provision(row.id)
                assert {row.status for row in db.session.scalars(sa.select(CampaignScenario))} == {ScenarioStatus.READY}
            code, output = _doctor(app)
    finally:
        emulator.stop()
    lines = output.splitlines()
    assert code == 0 and not [line for line in lines if line.startswith("FAIL")], output
    assert {line.split()[1] for line in lines if line.startswith("NOTE")} == {"dry_run"}
    assert sum(line.split()[1] == "connection" for line in lines) == 6
    assert sum(line.split()[1] == "drift" for line in lines) == 3
