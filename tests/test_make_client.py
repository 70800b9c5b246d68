"""Contract tests of the Make client: against the emulator always, against a real Make account
when MAKE_TEST_TOKEN, MAKE_TEST_BASE_URL and MAKE_TEST_TEAM_ID are set (MAKE_TEST_ORGANIZATION_ID
too for the clone). Tests that turn the emulator's fault knobs run against the emulator only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
import time
import uuid
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.serving import make_server

from app.integrations import blueprints
from app.integrations import make as mk
from tests.make_sandbox import CONNECTIONS, NO_SCOPE_TOKEN, SECRET, ServedEmulator

REAL_SETTINGS = ("MAKE_TEST_TOKEN", "MAKE_TEST_BASE_URL", "MAKE_TEST_TEAM_ID")
NO_REAL = (
    "no real Make account: set MAKE_TEST_TOKEN, MAKE_TEST_BASE_URL and MAKE_TEST_TEAM_ID "
    "to run the contract against one"
)


@pytest.fixture(scope="module")
def emulator():
    served = ServedEmulator()
    yield served
    served.stop()


@pytest.fixture(params=["emulator", "real"])
def target(request, emulator):
    """(config, emulator or None): the contract's two sides."""
    if request.param == "emulator":
        emulator.reset()
        return mk.MakeConfig.from_settings(emulator.settings()), emulator
    if not all(os.environ.get(name) for name in REAL_SETTINGS):
        pytest.skip(NO_REAL)
    return mk.MakeConfig(
        api_token=os.environ["MAKE_TEST_TOKEN"],
        base_url=os.environ["MAKE_TEST_BASE_URL"],
        team_id=int(os.environ["MAKE_TEST_TEAM_ID"]),
        hook_base_url="",  # real hooks carry their own url
        organization_id=int(os.environ.get("MAKE_TEST_ORGANIZATION_ID") or 0) or None,
    ), None


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(target, sleeps):
    with mk.MakeClient(target[0], sleep=sleeps.append, rng=random.Random(5)) as make:
        yield make


@pytest.fixture
def emulated(emulator, sleeps):
    """A client of the emulator only (the knob tests)."""
    emulator.reset()
    with mk.MakeClient(
        mk.MakeConfig.from_settings(emulator.settings()), sleep=sleeps.append, rng=random.Random(5)
    ) as make:
        yield make


def _name(kind: str) -> str:
    return f"cms-contract-{kind}-{uuid.uuid4().hex[:8]}"


def _minimal_blueprint(name: str, hook_id: int) -> dict:
    """A webhook and one variable: valid in any Make account, no connection needed."""
    return {
        "name": name,
        "metadata": {"instant": True, "version": 1, "scenario": {"dlq": True, "confidential": True}},
        "flow": [
            {
                "id": 1,
                "module": "gateway:CustomWebHook",
                "version": 1,
                "parameters": {"hook": hook_id, "maxResults": 1},
                "mapper": {},
            },
            {
                "id": 2,
                "module": "util:SetVariables",
                "version": 1,
                "parameters": {},
                "mapper": {"scope": "roundtrip", "variables": [{"name": "seen", "value": "{{1.delivery_id}}"}]},
            },
        ],
    }


# -- every call, both sides ---------------------------------------------------------------
def test_hook_lifecycle(client):
    name = _name("hook")
    hook = client.create_hook(name)
    try:
        assert hook["name"] == name and hook["typeName"] == "gateway-webhook"
        assert hook["data"]["method"] is False and hook["data"]["headers"] is False
        assert client.hook_url(hook).endswith(hook["udid"])
        assert client.find_hook(name)["id"] == hook["id"]
        assert client.find_hook(_name("absent")) is None
        client.disable_hook(hook["id"])
        assert client.get_hook(hook["id"])["enabled"] is False
        client.enable_hook(hook["id"])
        assert client.get_hook(hook["id"])["enabled"] is True
    finally:
        client.delete_hook(hook["id"])
    with pytest.raises(mk.MakeNotFound) as raised:
        client.get_hook(hook["id"])
    assert raised.value.status == 404 and not raised.value.retryable


def test_scenario_lifecycle(client):
    name = _name("scenario")
    hook = client.create_hook(name)
    scenario = None
    try:
        scenario = client.create_scenario(_minimal_blueprint(name, hook["id"]))
        assert scenario["name"] == name and scenario["hookId"] == hook["id"]
        assert scenario["isActive"] is False and scenario["scheduling"] == {"type": "immediately"}
        assert client.find_scenario(name)["id"] == scenario["id"]
        assert client.get_scenario(scenario["id"])["id"] == scenario["id"]
        blueprint = client.get_blueprint(scenario["id"])
        assert blueprint["flow"][0]["parameters"]["hook"] == hook["id"]
        blueprint["flow"][1]["mapper"]["variables"][0]["name"] = "seen_again"
        client.update_blueprint(scenario["id"], blueprint)
        assert client.get_blueprint(scenario["id"])["flow"][1]["mapper"]["variables"][0]["name"] == "seen_again"
        assert client.start_scenario(scenario["id"])["isActive"] is True
        assert client.get_scenario(scenario["id"])["isActive"] is True
        assert client.stop_scenario(scenario["id"])["isActive"] is False
        client.delete_scenario(scenario["id"])
        with pytest.raises(mk.MakeNotFound):
            client.get_scenario(scenario["id"])
        scenario = None
    finally:
        if scenario:
            client.delete_scenario(scenario["id"])
        client.delete_hook(hook["id"])


def test_clone_maps_the_hook(client, target):
    if target[0].organization_id is None:
        pytest.skip("MAKE_TEST_ORGANIZATION_ID is not set: cloning needs the organisation")
    name = _name("template")
    hooks = [client.create_hook(name), client.create_hook(name + "-clone")]
    created = []
    try:
        template = client.create_scenario(_minimal_blueprint(name, hooks[0]["id"]))
        created.append(template)
        clone = client.clone_scenario(template["id"], name + "-clone", hook_id=hooks[1]["id"], connection_id=1)
        created.append(clone)
        assert clone["id"] != template["id"] and clone["name"] == name + "-clone"
        assert client.get_blueprint(clone["id"])["flow"][0]["parameters"]["hook"] == hooks[1]["id"]
    finally:
        for scenario in created:
            client.delete_scenario(scenario["id"])
        for hook in hooks:
            client.delete_hook(hook["id"])


def test_connections_are_listed(client, target):
    assert client.find_connection(-1) is None
    if target[1] is not None:
        assert client.find_connection(CONNECTIONS["instagram"])["accountName"] == "facebook"


def test_a_bad_token_is_an_auth_error(target, sleeps):
    config = dataclasses.replace(target[0], api_token=str(uuid.uuid4()))
    with mk.MakeClient(config, sleep=sleeps.append) as make, pytest.raises(mk.MakeAuthError) as raised:
        make.find_hook("anything")
    assert raised.value.status == 401 and sleeps == []


def test_a_refused_blueprint_is_a_validation_error_with_suberrors(client):
    with pytest.raises(mk.MakeValidationError) as raised:
        client.create_scenario(_minimal_blueprint(_name("orphan"), 999_999_999))
    assert raised.value.status == 400 and raised.value.suberrors
    assert "999999999" in str(raised.value)


def test_the_token_its_scopes_and_the_team(client, target):
    assert client.me()["id"]
    authorization = client.current_authorization()
    assert authorization["authUsed"] == "token" and "scenarios:write" in authorization["scope"]
    team = client.get_team(target[0].team_id)
    assert team["id"] == target[0].team_id
    if target[0].organization_id:
        assert client.get_organization(team["organizationId"])["id"] == team["organizationId"]


# -- emulator only: the fault knobs -------------------------------------------------------
def test_a_connection_and_the_data_store_with_its_structure(emulator, emulated):
    assert emulated.get_connection(CONNECTIONS["linkedin"])["teamId"] == 215
    store = emulated.get_data_store(1)
    spec = emulated.get_data_structure(store["datastructureId"])["spec"]
    assert {field["name"] for field in spec} >= {"external_id", "external_url"}
    http = emulator._http
    token = {"Authorization": emulated._http.headers["Authorization"]}
    assert http.delete("/api/v2/data-stores/1?confirmed=true", headers=token).status_code == 200
    assert http.delete(f"/api/v2/connections/{CONNECTIONS['linkedin']}", headers=token).status_code == 200
    for missing in (lambda: emulated.get_data_store(1), lambda: emulated.get_connection(CONNECTIONS["linkedin"])):
        with pytest.raises(mk.MakeNotFound):
            missing()


class _Recorder:
    """A loopback HTTP server that answers from a script and records each request."""

    def __init__(self, answers):
        self.requests, self._answers = [], list(answers)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/v2"

    def _app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.requests.append(
            {
                "path": environ["PATH_INFO"],
                "query": environ["QUERY_STRING"],
                "authorization": environ.get("HTTP_AUTHORIZATION"),
                "body": environ["wsgi.input"].read(length),
            }
        )
        status, body = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    def client(self, sleeps) -> mk.MakeClient:
        return mk.MakeClient(
            mk.MakeConfig(
                api_token=str(uuid.uuid4()), team_id=215, organization_id=11, hook_base_url="", base_url=self.url
            ),
            sleep=sleeps.append,
        )

    def stop(self):
        self._server.shutdown()


def test_blueprint_validation_goes_without_the_token_and_reports_403_and_429(sleeps):
    errors = [{"path": "flow[1].module", "problem": "Unknown module x:Y", "fix": "Use a real one"}]
    server = _Recorder(
        [("429 Too Many Requests", {"message": "limited"}), ("200 OK", {"valid": False, "errors": errors})]
    )
    try:
        with server.client(sleeps) as make:
            answer = make.validate_blueprint({"name": "x", "flow": []})
        assert answer == {"valid": False, "errors": errors} and len(sleeps) == 1
        assert [r["authorization"] for r in server.requests] == [None, None]
        assert json.loads(server.requests[0]["body"]) == {"blueprint": {"name": "x", "flow": []}}
        assert server.requests[0]["path"] == "/api/v2/blueprints/validate"
    finally:
        server.stop()
    off = _Recorder([("403 Forbidden", {"message": "Permission denied", "code": "SC403"})])
    try:
        with off.client(sleeps) as make, pytest.raises(mk.MakePermissionError):
            make.validate_blueprint({"name": "x", "flow": []})
    finally:
        off.stop()


@pytest.mark.parametrize("envelope", ["wrapped", "bare"])
def test_a_clone_answer_is_read_wrapped_or_bare(sleeps, envelope):
    scenario = {"id": 931, "name": "clone", "teamId": 215, "isActive": False, "isinvalid": False}
    blueprint = {
        "name": "tpl",
        "flow": [{"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 4700}}],
    }
    server = _Recorder(
        [
            ("200 OK", {"code": "OK", "response": {"blueprint": blueprint}}),
            ("200 OK", {"scenario": scenario} if envelope == "wrapped" else scenario),
        ]
    )
    try:
        with server.client(sleeps) as make:
            assert make.clone_scenario(930, "clone", hook_id=4711, connection_id=77) == scenario
        assert json.loads(server.requests[1]["body"])["hook"] == {"4700": 4711}
    finally:
        server.stop()


def test_a_token_without_scope_is_a_permission_error(emulator, sleeps):
    config = mk.MakeConfig.from_settings({**emulator.settings(), "MAKE_API_TOKEN": NO_SCOPE_TOKEN})
    with mk.MakeClient(config, sleep=sleeps.append) as make, pytest.raises(mk.MakePermissionError) as raised:
        make.create_hook(_name("denied"))
    assert (raised.value.status, raised.value.code) == (403, "SC403")
    assert "scope" in " ".join(raised.value.suberrors)


def test_429_honours_retry_after_then_gives_up_after_five_attempts(emulator, emulated, sleeps):
    emulator.knobs(force_429=True, retry_after=7)
    with pytest.raises(mk.MakeRateLimited) as raised:
        emulated.get_scenario(925)
    assert sleeps == [7, 7, 7, 7] and raised.value.retryable and raised.value.retry_after == 7


def test_429_without_retry_after_backs_off_exponentially_with_jitter(emulator, emulated, sleeps):
    emulator.knobs(force_429=True)
    with pytest.raises(mk.MakeRateLimited):
        emulated.create_hook(_name("limited"))  # 429: refused, so even a create is re-sent
    assert len(sleeps) == 4
    for attempt, delay in enumerate(sleeps):
        assert 0.8 * 2**attempt <= delay <= 1.2 * 2**attempt


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_idempotent_calls_retry_5xx_until_it_passes(emulator, emulated, sleeps, status):
    emulator.knobs(api_fail_status=status, api_fail_count=2)
    assert emulated.find_hook("nothing") is None
    assert len(sleeps) == 2


@pytest.mark.parametrize("status,retried", [(500, False), (504, False), (502, True), (503, True)])
def test_creates_are_resent_only_when_make_surely_did_nothing(emulator, emulated, sleeps, status, retried):
    emulator.knobs(api_fail_status=status, api_fail_count=1)
    if retried:
        assert emulated.create_hook(_name("create"))["id"]
        assert len(sleeps) == 1
    else:
        with pytest.raises(mk.MakeServerError) as raised:
            emulated.create_hook(_name("create"))
        assert raised.value.retryable and sleeps == []  # the caller re-runs find-by-name first
        assert emulator.hooks() == []


@pytest.mark.parametrize(
    "status,error",
    [
        (400, mk.MakeValidationError),
        (401, mk.MakeAuthError),
        (403, mk.MakePermissionError),
        (404, mk.MakeNotFound),
        (409, mk.MakeError),
        (422, mk.MakeValidationError),
    ],
)
def test_other_4xx_are_never_retried(emulator, emulated, sleeps, status, error):
    emulator.knobs(api_fail_status=status, api_fail_count=3)
    with pytest.raises(error) as raised:
        emulated.get_scenario(925)
    assert type(raised.value) is error and raised.value.status == status
    assert raised.value.code == f"SC{status}" and "Forced failure" in raised.value.detail
    assert not raised.value.retryable and sleeps == []


def test_connection_refused_is_retried_then_raised(sleeps):
    config = mk.MakeConfig(
        api_token=str(uuid.uuid4()), team_id=1, hook_base_url="", base_url=f"http://127.0.0.1:{_closed_port()}/api/v2"
    )
    with mk.MakeClient(config, sleep=sleeps.append) as make, pytest.raises(mk.MakeConnectionError) as raised:
        make.create_hook("never")  # nothing was sent: safe to re-send even a create
    assert len(sleeps) == 4 and raised.value.retryable


def test_read_timeout_retries_reads_but_not_creates(sleeps):
    def slow(environ, start_response):
        time.sleep(0.5)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"hooks": []}']

    server = make_server("127.0.0.1", 0, slow, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = mk.MakeConfig(
            api_token=str(uuid.uuid4()),
            team_id=1,
            hook_base_url="",
            base_url=f"http://127.0.0.1:{server.server_port}",
            read_timeout=0.1,
        )
        with mk.MakeClient(config, sleep=sleeps.append) as make:
            with pytest.raises(mk.MakeTimeout):
                make.find_hook("x")
            assert len(sleeps) == 4
            with pytest.raises(mk.MakeTimeout):
                make.create_hook("x")
            assert len(sleeps) == 4
    finally:
        server.shutdown()


def test_find_by_name_pages_through_every_hook(emulator, emulated):
    for number in range(105):
        emulated.create_hook(f"paged-{number:03d}")
    assert emulated.find_hook("paged-104")["name"] == "paged-104"


def test_clone_maps_the_hook_and_the_connection_of_a_platform_template(emulator, emulated):
    template_hook = emulated.create_hook("tpl")
    template = emulated.create_scenario(
        blueprints.render(
            "instagram",
            name="tpl",
            hook_id=template_hook["id"],
            connection_id=CONNECTIONS["instagram"],
            datastore_id=1,
            secret=SECRET,
        )
    )
    hook = emulated.create_hook("clone")
    clone = emulated.clone_scenario(template["id"], "clone", hook_id=hook["id"], connection_id=78)
    hook_id, connections = blueprints.bindings(emulated.get_blueprint(clone["id"]))
    assert (hook_id, connections) == (hook["id"], {78})


def test_clone_needs_the_organisation(emulator):
    config = mk.MakeConfig.from_settings({**emulator.settings(), "MAKE_ORGANIZATION_ID": ""})
    with mk.MakeClient(config) as make, pytest.raises(mk.MakeConfigError):
        make.clone_scenario(925, "x", hook_id=1, connection_id=1)


# -- configuration and Retry-After ---------------------------------------------------------
def test_config_from_zone_or_base_url():
    base = {"MAKE_API_TOKEN": "t", "MAKE_TEAM_ID": "215"}
    config = mk.MakeConfig.from_settings({**base, "MAKE_ZONE": "us2"})
    assert config.base_url == "https://us2.make.com/api/v2"
    assert config.hook_base_url == "https://hook.us2.make.com" and config.team_id == 215
    custom = mk.MakeConfig.from_settings({**base, "MAKE_BASE_URL": "http://127.0.0.1:5010/api/v2"})
    assert custom.base_url == "http://127.0.0.1:5010/api/v2"
    for broken in ({**base, "MAKE_ZONE": "eu9"}, {"MAKE_TEAM_ID": "215"}, {**base, "MAKE_TEAM_ID": "media"}):
        with pytest.raises(mk.MakeConfigError):
            mk.MakeConfig.from_settings(broken)


def test_retry_after_accepts_seconds_and_http_dates_capped_at_300():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert mk.retry_after_seconds("12") == 12
    assert mk.retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now.timestamp()) == 30
    assert mk.retry_after_seconds("3600") == 300
    assert mk.retry_after_seconds(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now.timestamp()) == 0
    assert mk.retry_after_seconds("soon") is None and mk.retry_after_seconds(None) is None


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
