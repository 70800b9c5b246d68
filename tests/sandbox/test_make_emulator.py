"""The Make emulator, driven over real HTTP the way the CMS's Make client will drive it.

No database: each test gets a fresh emulator on a loopback port, plus (when it needs one) a tiny
WSGI "CMS" that records the callbacks it receives. Waits poll the inspection endpoints with a
deadline instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from sandbox.make import Knobs, MakeEmulatorConfig, create_app, emulator_of
from sandbox.make.blueprints import walk_modules
from sandbox.make.iml import IMLError, render
from sandbox.make.state import fresh_state
from sandbox.server import BackgroundServer

TOKEN = "00000000-0000-4000-8000-000000000001"
NO_SCOPE_TOKEN = "00000000-0000-4000-8000-000000000002"
SECRET = "0123456789abcdef" * 3  # 24 bytes as hex, like MAKE_CALLBACK_SECRET
TEAM, OTHER_TEAM, ORG = 215, 216, 11
EXAMPLE = Path(__file__).resolve().parents[2] / "sandbox" / "make" / "blueprint_example.json"
IMMEDIATELY = json.dumps({"type": "immediately"})


class Receiver:
    """A stand-in for the CMS's ``POST /hooks/make``: records requests, answers scripted codes."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []  # answered in order, then 200
        self.always: int | None = None  # answer this to everything when set
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self.requests, self.statuses, self.always = [], [], None

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        with self._lock:
            self.requests.append((headers, body))
            status = self.always or (self.statuses.pop(0) if self.statuses else 200)
        start_response(f"{status} Scripted", [("Content-Type", "text/plain")])
        return [b"ok"]


class Emulator:
    """One served emulator with an authenticated API client."""

    def __init__(self, config: MakeEmulatorConfig):
        self.app = create_app(config)
        self.server = BackgroundServer(self.app).start()
        self.url = self.server.url
        self.api = httpx.Client(
            base_url=f"{self.url}/api/v2", trust_env=False, headers={"Authorization": f"Token {TOKEN}"}
        )
        # Unauthenticated calls (gateway, inspection). One client: httpx.post() would build
        # a new one, SSL context included, on every call.
        self.http = httpx.Client(trust_env=False)

    def stop(self):
        self.api.close()
        self.http.close()
        self.server.stop()
        emulator_of(self.app).shutdown()

    def inspect(self, what: str, **params) -> dict:
        return self.http.get(f"{self.url}/_emulator/{what}", params=params).json()

    def knobs(self, **changes) -> httpx.Response:
        return self.http.post(f"{self.url}/_emulator/knobs", json=changes)

    def reset(self) -> None:
        assert self.http.post(f"{self.url}/_emulator/reset").json() == {"reset": True}

    def send(self, hook: dict, body: dict) -> httpx.Response:
        """POST a payload to the hook, as the CMS's publish actor does."""
        return self.http.post(f"{self.url}/hook/{hook['udid']}", json=body)

    def wait_executions(self, count: int) -> list[dict]:
        """Poll until ``count`` runs have finished; returns them."""

        def finished():
            runs = self.inspect("executions")["executions"]
            done = [run for run in runs if run["status"] != "running"]
            return done if len(done) >= count else None

        return wait_for(finished)


def make_config(tmp_path=None, **overrides) -> MakeEmulatorConfig:
    settings = dict(
        tokens=(TOKEN,),
        scoped_tokens={NO_SCOPE_TOKEN: ()},
        workers=4,
        teams=[
            {"id": TEAM, "name": "Media", "organizationId": ORG},
            {"id": OTHER_TEAM, "name": "Brand", "organizationId": ORG},
        ],
        connections=[
            {"id": 77, "name": "IG prod", "accountName": "facebook", "teamId": TEAM},
            {"id": 78, "name": "IG test", "accountName": "facebook", "teamId": TEAM},
            {"id": 90, "name": "IG brand", "accountName": "facebook", "teamId": OTHER_TEAM},
            {"id": 91, "name": "LinkedIn page", "accountName": "linkedin2", "teamId": TEAM},
        ],
        knobs=Knobs(break_interval_scale=0.01),
    )  # a Break "minute" lasts 10 ms
    settings.update(overrides)
    return MakeEmulatorConfig(**settings)


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out waiting for the emulator"
        time.sleep(0.02)
    return value


@pytest.fixture(scope="module")
def served_emulator():
    """One server for the module (stopping one costs half a second); tests reset it."""
    served = Emulator(make_config())
    yield served
    served.stop()


@pytest.fixture
def emulator(served_emulator):
    served_emulator.reset()
    return served_emulator


@pytest.fixture(scope="module")
def served_cms():
    receiver = Receiver()
    with BackgroundServer(receiver) as server:
        receiver.url = f"{server.url}/hooks/make"
        yield receiver


@pytest.fixture
def cms(served_cms):
    served_cms.clear()
    return served_cms


def create_hook(api: httpx.Client, name: str = "cms-prod-c42-a7-instagram", team=TEAM) -> dict:
    response = api.post(
        "/hooks",
        json={
            "name": name,
            "teamId": team,
            "typeName": "gateway-webhook",
            "method": False,
            "headers": False,
            "stringify": False,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["hook"]


def example_blueprint(hook_id: int, connection: int = 77, name: str | None = None) -> dict:
    text = EXAMPLE.read_text().replace("CALLBACK_SECRET", SECRET)
    blueprint = json.loads(text)
    blueprint["flow"][0]["parameters"]["hook"] = hook_id
    blueprint["flow"][1]["parameters"]["__IMTCONN__"] = connection
    if name:
        blueprint["name"] = name
    return blueprint


def create_scenario(api, blueprint: dict, team=TEAM) -> httpx.Response:
    return api.post(
        "/scenarios",
        params={"confirmed": "true"},
        json={"teamId": team, "blueprint": json.dumps(blueprint), "scheduling": IMMEDIATELY},
    )


def provision(emulator: Emulator, blueprint_change=None) -> tuple[dict, dict]:
    """A hook and an active scenario running the example blueprint."""
    hook = create_hook(emulator.api)
    blueprint = example_blueprint(hook["id"])
    if blueprint_change:
        blueprint_change(blueprint)
    scenario = create_scenario(emulator.api, blueprint).json()["scenario"]
    assert emulator.api.post(f"/scenarios/{scenario['id']}/start").status_code == 200
    return hook, scenario


def payload(cms: Receiver, key: str = "pub-981-g1", delivery: str = "pub-981", attempt=1):
    return {
        "delivery_id": delivery,
        "idempotency_key": key,
        "attempt": attempt,
        "fingerprint": "sha256:5c1e",
        "platform": "facebook",
        "text": "Rendez-vous",
        "account_identifier": "104857600000000",
        "link": "https://cms.example.org/salon",
        "media": [{"url": "https://cms.example.org/m/1", "mime": "image/jpeg"}],
        "callback_url": cms.url,
        "sent_at": 1767261600,
    }


def signature_is_valid(headers: dict, body: bytes, secret: str = SECRET) -> bool:
    """Standard Webhooks: base64 HMAC-SHA256 over ``id.timestamp.body``, prefixed ``v1,``."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, candidate) for candidate in headers["webhook-signature"].split())


def assert_error_shape(response: httpx.Response, status: int):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"detail", "message", "code", "suberrors"}
    assert body["code"] == f"SC{status}"
    return body


# -- authentication and conventions ---------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, f"Bearer {TOKEN}", "Token not-a-uuid", "Token 11111111-1111-4111-8111-111111111111"]
)
def test_missing_malformed_or_unknown_token_is_401(emulator, header):
    headers = {"Authorization": header} if header else {}
    response = emulator.http.get(f"{emulator.url}/api/v2/organizations", headers=headers)
    assert_error_shape(response, 401)


def test_token_without_scope_is_403(emulator):
    response = emulator.http.get(
        f"{emulator.url}/api/v2/hooks", params={"teamId": TEAM}, headers={"Authorization": f"Token {NO_SCOPE_TOKEN}"}
    )
    body = assert_error_shape(response, 403)
    assert body["message"] == "Permission denied"


def test_unknown_route_and_unknown_ids_use_the_error_shape(emulator):
    assert_error_shape(emulator.api.get("/nothing-here"), 404)
    assert_error_shape(emulator.api.get("/hooks/999999"), 404)
    assert_error_shape(emulator.api.get("/connections", params={"teamId": 999}), 404)
    assert_error_shape(emulator.api.get("/teams"), 400)


def test_organizations_teams_and_connections_are_wrapped(emulator):
    organizations = emulator.api.get("/organizations").json()
    assert organizations["organizations"][0]["id"] == ORG and "pg" in organizations
    teams = emulator.api.get("/teams", params={"organizationId": ORG}).json()["teams"]
    assert {team["id"] for team in teams} == {TEAM, OTHER_TEAM}
    connections = emulator.api.get("/connections", params={"teamId": TEAM}).json()
    assert {c["id"] for c in connections["connections"]} == {77, 78, 91}


def test_pagination_echoes_pg_and_pages(emulator):
    for number in range(12):
        create_hook(emulator.api, f"hook-{number:02}")
    default = emulator.api.get("/hooks", params={"teamId": TEAM}).json()
    assert len(default["hooks"]) == 10  # Make's small default page: clients must page
    page = emulator.api.get(
        "/hooks", params={"teamId": TEAM, "pg[offset]": 10, "pg[limit]": 5, "pg[sortBy]": "name"}
    ).json()
    assert [hook["name"] for hook in page["hooks"]] == ["hook-10", "hook-11"]
    assert page["pg"] == {"sortBy": "name", "sortDir": "asc", "limit": 5, "offset": 10, "returnTotalCount": False}
    newest = emulator.api.get("/hooks", params={"teamId": TEAM, "pg[sortDir]": "desc", "pg[limit]": 1}).json()["hooks"]
    assert newest[0]["name"] == "hook-11"
    assert_error_shape(emulator.api.get("/hooks", params={"teamId": TEAM, "pg[sortDir]": "up"}), 400)


def test_rate_limit_answers_429_with_retry_after(emulator):
    assert emulator.knobs(rate_limit_per_minute=2, retry_after=7).status_code == 200
    assert emulator.api.get("/organizations").status_code == 200
    assert emulator.api.get("/organizations").status_code == 200
    limited = emulator.api.get("/organizations")
    body = assert_error_shape(limited, 429)
    assert body["message"] == "Requests limit for organization exceeded, please try again later."
    assert limited.headers["Retry-After"] == "7"
    emulator.knobs(rate_limit_per_minute=None, force_429=True)
    assert emulator.api.get("/organizations").status_code == 429
    emulator.knobs(force_429=False, api_fail_status=503, api_fail_count=1)
    assert_error_shape(emulator.api.get("/organizations"), 503)
    assert emulator.api.get("/organizations").status_code == 200


def test_knobs_are_validated(emulator):
    assert emulator.knobs(outcome="maybe").status_code == 400
    assert emulator.knobs(no_such_knob=1).status_code == 400
    assert emulator.knobs(failure_rate=0.25).json()["failure_rate"] == 0.25


# -- hooks ----------------------------------------------------------------------------------


def test_hook_lifecycle(emulator):
    hook = create_hook(emulator.api)
    assert hook["url"] == f"{emulator.url}/hook/{hook['udid']}"
    assert (hook["enabled"], hook["queueCount"], hook["scenarioId"]) == (True, 0, None)
    assert hook["data"] == {"headers": False, "method": False, "stringify": False, "teamId": TEAM}
    found = emulator.api.get(
        "/hooks", params={"teamId": TEAM, "typeName": "gateway-webhook", "assigned": "false"}
    ).json()["hooks"]
    assert [h["id"] for h in found] == [hook["id"]]
    assert emulator.api.post(f"/hooks/{hook['id']}/disable").json() == {"success": True}
    assert emulator.api.get(f"/hooks/{hook['id']}").json()["hook"]["enabled"] is False
    emulator.api.post(f"/hooks/{hook['id']}/enable")
    assert emulator.api.delete(f"/hooks/{hook['id']}", params={"confirmed": "true"}).status_code == 200
    assert emulator.api.get(f"/hooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"method": "any"}, "method must be a boolean"),
        ({"stringify": None}, "stringify must be a boolean"),
        ({"headers": "__missing__"}, "headers is required"),
        ({"teamId": 999}, "teamId 999 does not exist"),
    ],
)
def test_hook_creation_is_strict(emulator, change, problem):
    body = {
        "name": "h",
        "teamId": TEAM,
        "typeName": "gateway-webhook",
        "method": False,
        "headers": False,
        "stringify": False,
        **change,
    }
    body = {key: value for key, value in body.items() if value != "__missing__"}
    response = emulator.api.post("/hooks", json=body)
    assert problem in [item["message"] for item in assert_error_shape(response, 400)["suberrors"]]


# -- scenarios ------------------------------------------------------------------------------


def test_scenario_lifecycle(emulator):
    hook = create_hook(emulator.api)
    created = create_scenario(emulator.api, example_blueprint(hook["id"]))
    scenario = created.json()["scenario"]
    assert (scenario["hookId"], scenario["isActive"], scenario["isinvalid"]) == (hook["id"], False, False)
    assert emulator.api.get(f"/hooks/{hook['id']}").json()["hook"]["scenarioId"] == scenario["id"]
    listed = emulator.api.get("/scenarios", params={"teamId": TEAM}).json()["scenarios"]
    assert [s["name"] for s in listed] == ["cms-prod-c42-a7-facebook"]
    stored = emulator.api.get(f"/scenarios/{scenario['id']}/blueprint").json()
    assert stored["code"] == "OK" and stored["response"]["scheduling"] == {"type": "immediately"}
    assert stored["response"]["blueprint"]["flow"][0]["parameters"]["hook"] == hook["id"]
    renamed = emulator.api.patch(f"/scenarios/{scenario['id']}", json={"name": "renamed"})
    assert renamed.json()["scenario"]["name"] == "renamed"
    path = f"/scenarios/{scenario['id']}"
    started = emulator.api.post(f"{path}/start").json()
    assert started == {"scenario": {"id": scenario["id"], "isActive": True, "islinked": True}}
    assert emulator.api.get(path).json()["scenario"]["isActive"] is True
    emulator.api.post(f"{path}/stop")
    assert emulator.api.get(path).json()["scenario"]["isActive"] is False
    assert emulator.api.delete(path).json() == {"scenario": scenario["id"]}
    assert emulator.api.get(path).status_code == 404
    assert emulator.api.get(f"/hooks/{hook['id']}").json()["hook"]["scenarioId"] is None


@pytest.mark.parametrize(
    "blueprint, scheduling, problem",
    [
        ({"name": "x", "flow": []}, IMMEDIATELY, "must be a JSON string"),
        ("{not json", IMMEDIATELY, "blueprint is not valid JSON"),
        (json.dumps({"name": "x", "flow": []}), IMMEDIATELY, "blueprint.flow must be a non-empty"),
        (
            json.dumps({"name": "x", "flow": [{"id": 1, "module": "util:SetVariables"}]}),
            '{"type": "sometimes"}',
            "scheduling.type must be one of",
        ),
        (
            json.dumps({"name": "x", "flow": [{"id": 1, "module": "util:SetVariables"}]}),
            "",
            "scheduling is not valid JSON",
        ),
    ],
)
def test_blueprint_and_scheduling_must_be_valid_json_strings(emulator, blueprint, scheduling, problem):
    response = emulator.api.post(
        "/scenarios",
        params={"confirmed": "true"},
        json={"teamId": TEAM, "blueprint": blueprint, "scheduling": scheduling},
    )
    messages = [item["message"] for item in assert_error_shape(response, 400)["suberrors"]]
    assert any(problem in message for message in messages), messages


def test_apps_outside_the_organisation_need_confirmation(emulator):
    hook = create_hook(emulator.api)
    response = emulator.api.post(
        "/scenarios",
        json={"teamId": TEAM, "blueprint": json.dumps(example_blueprint(hook["id"])), "scheduling": IMMEDIATELY},
    )
    assert "facebook-pages" in assert_error_shape(response, 400)["suberrors"][0]["message"]


def test_a_hook_serves_one_scenario_only(emulator):
    hook = create_hook(emulator.api)
    assert create_scenario(emulator.api, example_blueprint(hook["id"])).status_code == 200
    second = create_scenario(emulator.api, example_blueprint(hook["id"], name="other"))
    assert "already assigned" in assert_error_shape(second, 400)["suberrors"][0]["message"]


def test_start_needs_an_existing_enabled_hook(emulator):
    hook = create_hook(emulator.api)
    scenario = create_scenario(emulator.api, example_blueprint(hook["id"])).json()["scenario"]
    emulator.api.post(f"/hooks/{hook['id']}/disable")
    assert_error_shape(emulator.api.post(f"/scenarios/{scenario['id']}/start"), 400)
    emulator.api.post(f"/hooks/{hook['id']}/enable")
    assert emulator.api.post(f"/scenarios/{scenario['id']}/start").status_code == 200


def test_missing_connection_makes_the_scenario_invalid(emulator):
    hook = create_hook(emulator.api)
    blueprint = example_blueprint(hook["id"], connection=90)  # a connection of another team
    scenario = create_scenario(emulator.api, blueprint).json()["scenario"]
    assert scenario["isinvalid"] is True
    refused = assert_error_shape(emulator.api.post(f"/scenarios/{scenario['id']}/start"), 400)
    assert "connection 90" in refused["suberrors"][0]["message"]


def test_clone_remaps_hooks_and_connections(emulator):
    template_hook, target_hook = create_hook(emulator.api, "tpl"), create_hook(emulator.api, "new")
    template = create_scenario(emulator.api, example_blueprint(template_hook["id"])).json()
    template_id = template["scenario"]["id"]
    body = {
        "name": "cms-prod-cmp42-instagram",
        "teamId": TEAM,
        "states": False,
        "hook": {str(template_hook["id"]): target_hook["id"]},
        "account": {"77": 78},
        "key": {},
        "device": {},
        "udt": {},
        "datastore": {},
    }
    assert_error_shape(emulator.api.post(f"/scenarios/{template_id}/clone", json=body), 400)
    clone = emulator.api.post(f"/scenarios/{template_id}/clone", params={"organizationId": ORG}, json=body).json()[
        "scenario"
    ]
    assert (clone["name"], clone["hookId"], clone["isActive"]) == (body["name"], target_hook["id"], False)
    flow = emulator.api.get(f"/scenarios/{clone['id']}/blueprint").json()["response"]["blueprint"]["flow"]
    assert flow[0]["parameters"]["hook"] == target_hook["id"]
    assert flow[1]["parameters"]["__IMTCONN__"] == 78
    unmapped = emulator.api.post(
        f"/scenarios/{template_id}/clone", params={"organizationId": ORG}, json={**body, "hook": {}, "name": "again"}
    )
    assert "already assigned" in assert_error_shape(unmapped, 400)["suberrors"][0]["message"]
    other_team = emulator.api.post(
        f"/scenarios/{template_id}/clone",
        params={"organizationId": ORG},
        json={**body, "teamId": OTHER_TEAM, "hook": {}, "account": {}},
    )
    assert len(assert_error_shape(other_team, 400)["suberrors"]) == 2  # hook and connection


# -- webhook gateway and scenario runs ------------------------------------------------------


def test_gateway_refusals(emulator, cms):
    hook = create_hook(emulator.api)
    assert emulator.http.post(f"{emulator.url}/hook/nosuchudid", json={}).status_code == 404
    too_big = b'{"text": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = emulator.http.post(hook["url"], content=too_big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert (
        emulator.http.post(hook["url"], content=b"[1]", headers={"Content-Type": "application/json"}).status_code == 400
    )
    emulator.api.post(f"/hooks/{hook['id']}/disable")
    assert emulator.send(hook, payload(cms)).status_code == 410
    emulator.api.post(f"/hooks/{hook['id']}/enable")
    emulator.http.post(f"{emulator.url}/_emulator/hooks/{hook['id']}/expire")
    assert emulator.send(hook, payload(cms)).status_code == 410


def test_gateway_limits_and_forced_failures(cms):
    small = Emulator(make_config(hook_queue_limit=2, hook_rate_limit_per_10s=3))
    try:
        hook = create_hook(small.api)  # no scenario: items stay queued
        assert small.knobs(hook_fail_status=502, hook_fail_count=1).status_code == 200
        assert small.send(hook, payload(cms)).status_code == 502  # answered before counting
        assert [small.send(hook, payload(cms)).status_code for _ in range(3)] == [200, 200, 400]
        assert small.send(hook, payload(cms)).status_code == 429  # 3 counted calls in 10 s
        assert small.api.get(f"/hooks/{hook['id']}").json()["hook"]["queueCount"] == 2
    finally:
        small.stop()


def test_items_wait_in_the_queue_until_the_scenario_starts(emulator, cms):
    hook = create_hook(emulator.api)
    scenario = create_scenario(emulator.api, example_blueprint(hook["id"])).json()["scenario"]
    accepted = emulator.send(hook, payload(cms))
    assert (accepted.status_code, accepted.text) == (200, "Accepted")
    assert accepted.headers["Content-Type"].startswith("text/plain")
    assert emulator.api.get(f"/hooks/{hook['id']}").json()["hook"]["queueCount"] == 1
    emulator.api.post(f"/scenarios/{scenario['id']}/start")
    emulator.wait_executions(1)
    assert emulator.api.get(f"/hooks/{hook['id']}").json()["hook"]["queueCount"] == 0
    assert len(cms.requests) == 1


def test_published_callback_is_signed_per_standard_webhooks(emulator, cms):
    hook, _ = provision(emulator)
    emulator.send(hook, payload(cms))
    emulator.wait_executions(1)
    headers, body = cms.requests[0]
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "pub-981:published:1"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 300
    assert signature_is_valid(headers, body)
    assert not signature_is_valid(headers, body, secret="another-secret")
    callback = json.loads(body)
    post = emulator.inspect("posts")["posts"][0]
    assert callback == {
        "delivery_id": "pub-981",
        "idempotency_key": "pub-981-g1",
        "fingerprint": "sha256:5c1e",
        "status": "published",
        "external_id": post["external_id"],
        "external_url": post["external_url"],
        "error": None,
        "sent_at": int(headers["webhook-timestamp"]),
    }
    assert post["input"] == {
        "page_id": "104857600000000",
        "message": "Rendez-vous",
        "link": "https://cms.example.org/salon",
    }


def test_the_same_key_twice_publishes_once(emulator, cms):
    hook, _ = provision(emulator)
    emulator.send(hook, payload(cms))
    emulator.wait_executions(1)
    emulator.send(hook, payload(cms, attempt=2))
    emulator.wait_executions(2)
    assert emulator.inspect("deliveries")["per_key"] == {"pub-981-g1": 2}
    posts = emulator.inspect("posts")
    assert posts["per_key"] == {"pub-981-g1": 1} and posts["max_per_key"] == 1
    bodies = [json.loads(body) for _, body in cms.requests]
    assert len(bodies) == 2 and bodies[0]["external_id"] == bodies[1]["external_id"]
    assert [h["webhook-id"] for h, _ in cms.requests] == ["pub-981:published:1", "pub-981:published:2"]
    # The example blueprint has no Data Store lookup: real Make would have posted twice.
    assert emulator.inspect("stats")["republish_blocked"] == 1


def _route_by_lookup(blueprint: dict) -> None:
    """The example turned into lookup -> router: a new key publishes and is stored, a known key
    only calls back what the Data Store holds."""
    trigger, publish, variables, request = blueprint["flow"]
    found = "{{20.external_id}}"
    publish["filter"] = {"name": "new", "conditions": [[{"a": found, "o": "notexist"}]]}
    store = {
        "id": 22,
        "module": "datastore:AddRecord",
        "version": 1,
        "parameters": {"datastore": 1},
        "mapper": {"key": "{{1.idempotency_key}}", "overwrite": True, "data": {"external_id": "{{2.id}}"}},
        "metadata": {"designer": {"x": 600, "y": 0}},
    }
    # The "known" route: the same two modules renumbered (+20), fed by the lookup's record.
    known = json.loads(json.dumps([variables, request]).replace("{{2.id}}", found).replace("3.", "23."))
    for module in walk_modules(known):
        module["id"] += 20
    known[0]["filter"] = {
        "name": "known",
        "conditions": [[{"a": found, "o": "exist"}, {"a": "{{1.platform}}", "b": "facebook", "o": "text:equal"}]],
    }
    lookup = {
        "id": 20,
        "module": "datastore:GetRecord",
        "version": 1,
        "parameters": {"datastore": 1},
        "mapper": {"key": "{{1.idempotency_key}}", "returnWrapped": False},
        "metadata": {"designer": {"x": 300, "y": 0}},
    }
    router = {
        "id": 21,
        "module": "builtin:BasicRouter",
        "version": 1,
        "mapper": None,
        "metadata": {"designer": {"x": 600, "y": 0}},
        "routes": [{"flow": [publish, store, variables, request]}, {"flow": known}],
    }
    blueprint["flow"] = [trigger, lookup, router]


def test_routers_and_filters_run_like_make(emulator, cms):
    hook, _ = provision(emulator, _route_by_lookup)
    emulator.send(hook, payload(cms))
    emulator.wait_executions(1)
    emulator.send(hook, payload(cms, attempt=2))
    emulator.wait_executions(2)
    stats = emulator.inspect("stats")
    assert stats["posts"] == 1 and stats["republish_blocked"] == 0
    assert stats["executions_by_status"] == {"success": 2}
    first, second = [json.loads(body) for _, body in cms.requests]
    assert second["external_id"] == first["external_id"] and second["status"] == "published"


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            lambda b: b["flow"][1].update(filter={"name": "x", "conditions": [[{"a": "1", "o": "regex"}]]}),
            "unknown filter operator 'regex'",
        ),
        (
            lambda b: b["flow"].insert(
                1,
                {
                    "id": 30,
                    "module": "builtin:BasicRouter",
                    "version": 1,
                    "mapper": None,
                    "metadata": {"designer": {"x": 0, "y": 0}},
                    "routes": [{"flow": [b["flow"].pop(2)]}],
                },
            ),
            "a router must be the last module of its route",
        ),
        (lambda b: b["flow"][1]["mapper"].update(link="{{1.media.1.url}}"), "indexes an array with a dot"),
    ],
)
def test_a_scenario_from_an_invalid_blueprint_is_stored_invalid_and_never_starts(emulator, change, problem):
    hook = create_hook(emulator.api)
    blueprint = example_blueprint(hook["id"])
    change(blueprint)
    scenario = create_scenario(emulator.api, blueprint).json()["scenario"]
    assert scenario["isinvalid"] is True
    refused = assert_error_shape(emulator.api.post(f"/scenarios/{scenario['id']}/start"), 400)
    assert any(problem in item["message"] for item in refused["suberrors"])
    clone = emulator.api.post(
        f"/scenarios/{scenario['id']}/clone",
        params={"organizationId": ORG},
        json={
            "name": "clone",
            "teamId": TEAM,
            "states": False,
            "hook": {str(hook["id"]): create_hook(emulator.api, "c")["id"]},
        },
    )
    assert clone.json()["scenario"]["isinvalid"] is True  # a clone of it is invalid too
    fixed = emulator.api.patch(
        f"/scenarios/{scenario['id']}", json={"blueprint": json.dumps(example_blueprint(hook["id"]))}
    ).json()["scenario"]
    assert fixed["isinvalid"] is False
    assert emulator.api.post(f"/scenarios/{scenario['id']}/start").status_code == 200


def test_patching_an_active_scenario_with_an_invalid_blueprint_stops_it(emulator, cms):
    hook, scenario = provision(emulator)
    broken = example_blueprint(hook["id"])
    broken["flow"][1]["version"] = 1
    patched = emulator.api.patch(f"/scenarios/{scenario['id']}", json={"blueprint": json.dumps(broken)}).json()[
        "scenario"
    ]
    assert (patched["isinvalid"], patched["isActive"]) == (True, False)
    assert emulator.send(hook, payload(cms)).status_code == 200  # queued, never run
    assert emulator.inspect("stats")["queued"] == 1


def test_failed_outcome_sends_a_failed_callback_and_stores_nothing(emulator, cms):
    hook, _ = provision(emulator)
    emulator.knobs(outcome="failed")
    emulator.send(hook, payload(cms))
    emulator.wait_executions(1)
    headers, body = cms.requests[0]
    callback = json.loads(body)
    assert signature_is_valid(headers, body) and headers["webhook-id"] == "pub-981:failed:1"
    assert (callback["status"], callback["external_id"]) == ("failed", None)
    assert callback["error"] == {
        "message": "the network refused the post on facebook-pages:CreatePost (emulated failure)"
    }
    assert emulator.inspect("posts")["posts"] == []
    emulator.knobs(outcome="published")  # a failed key was not stored: it can publish
    emulator.send(hook, payload(cms, attempt=2))
    emulator.wait_executions(2)
    assert json.loads(cms.requests[1][1])["status"] == "published"


def test_failure_rate_is_reproducible_with_the_seed(emulator, cms):
    def sequential(blueprint):  # one run at a time, so the seeded draws come in key order
        blueprint["metadata"]["scenario"]["sequential"] = True

    def outcomes():
        hook, _ = provision(emulator, sequential)
        emulator.knobs(failure_rate=0.5)
        for number in range(8):
            emulator.send(hook, payload(cms, key=f"k{number}", delivery=f"d{number}"))
        emulator.wait_executions(8)
        return sorted((json.loads(body)["idempotency_key"], json.loads(body)["status"]) for _, body in cms.requests)

    first = outcomes()
    emulator.reset()
    cms.clear()
    assert outcomes() == first
    assert {status for _, status in first} == {"published", "failed"}


def test_callback_answering_500_is_retried_by_break(emulator, cms):
    hook, scenario = provision(emulator)
    cms.statuses = [500]
    emulator.send(hook, payload(cms))
    (run,) = emulator.wait_executions(1)
    assert run["status"] == "success"
    sent = emulator.inspect("callbacks")["callbacks"]
    assert [(c["attempt"], c["status_code"]) for c in sent] == [(1, 500), (2, 200)]
    (first_headers, first_body), (second_headers, second_body) = cms.requests
    assert first_body == second_body and first_headers["webhook-signature"] == second_headers["webhook-signature"]


def test_callback_failing_past_the_break_count_leaves_an_incomplete_run(emulator, cms):
    hook, scenario = provision(emulator)
    cms.always = 503
    emulator.send(hook, payload(cms))
    (run,) = emulator.wait_executions(1)
    assert run["status"] == "incomplete"
    assert len(cms.requests) == 4  # 1 try + Break count 3
    state = emulator.api.get(f"/scenarios/{scenario['id']}").json()["scenario"]
    assert (state["isActive"], state["dlqCount"]) == (True, 1)


def test_an_unhandled_callback_error_deactivates_the_scenario(emulator, cms):
    def without_error_handler(blueprint):
        del blueprint["flow"][3]["onerror"]

    hook, scenario = provision(emulator, without_error_handler)
    cms.always = 500
    emulator.send(hook, payload(cms))
    (run,) = emulator.wait_executions(1)
    assert run["status"] == "error" and len(cms.requests) == 1
    assert emulator.api.get(f"/scenarios/{scenario['id']}").json()["scenario"]["isActive"] is False


def test_a_connection_of_another_type_fails_the_network_module(emulator, cms):
    hook, _ = provision(emulator, lambda b: b["flow"][1]["parameters"].update(__IMTCONN__=91))
    emulator.send(hook, payload(cms))
    emulator.wait_executions(1)
    callback = json.loads(cms.requests[0][1])
    assert callback["status"] == "failed" and callback["error"] == {
        "message": "connection 91 is a linkedin2 connection; facebook-pages:CreatePost needs facebook"
    }
    assert emulator.inspect("posts")["posts"] == []


def test_dropped_callback_still_publishes(emulator, cms):
    hook, _ = provision(emulator)
    emulator.knobs(drop_callbacks=True)
    emulator.send(hook, payload(cms))
    (run,) = emulator.wait_executions(1)
    assert run["dropped_callbacks"] == 1 and cms.requests == []
    assert emulator.inspect("posts")["per_key"] == {"pub-981-g1": 1}


def test_callback_delay_keeps_the_item_queued(emulator, cms):
    hook, _ = provision(emulator)
    emulator.knobs(callback_delay=30)
    emulator.send(hook, payload(cms))
    assert emulator.inspect("stats")["queued"] == 1
    emulator.reset()
    stats = emulator.inspect("stats")
    assert (stats["queued"], stats["deliveries"], stats["posts"]) == (0, 0, 0)
    assert emulator.inspect("knobs")["callback_delay"] == 0


def test_state_survives_a_restart(tmp_path, cms):
    config = make_config(state_path=str(tmp_path / "make-emulator.json"))
    first = Emulator(config)
    hook, scenario = provision(first)
    first.send(hook, payload(cms))
    first.wait_executions(1)
    first.stop()

    second = Emulator(config)
    try:
        restored = second.api.get(f"/scenarios/{scenario['id']}").json()["scenario"]
        assert (restored["isActive"], restored["hookId"]) == (True, hook["id"])
        assert second.api.get(f"/hooks/{hook['id']}").json()["hook"]["scenarioId"] == scenario["id"]
        second.send(hook, payload(cms, attempt=2))  # same udid on the new server
        second.wait_executions(2)
        assert second.inspect("posts")["per_key"] == {"pub-981-g1": 1}
        external_ids = {json.loads(body)["external_id"] for _, body in cms.requests}
        assert len(cms.requests) == 2 and len(external_ids) == 1
    finally:
        second.stop()


def test_a_state_file_of_version_1_is_carried_over(tmp_path, cms):
    """Version 1 kept what the networks took in "datastore"; version 2 keeps it in "network"
    and the Data Store holds the records a blueprint's AddRecord wrote."""
    path = tmp_path / "make-emulator.json"
    old = fresh_state()
    old.update(version=1, datastore={"pub-1-g1": {"id": "42", "url": "https://x.example/42"}})
    del old["network"]
    legacy = {
        "id": 900,
        "name": "old",
        "teamId": TEAM,
        "hookId": None,
        "isinvalid": False,
        "isActive": True,
        "islinked": True,
        "scheduling": {"type": "immediately"},
        "blueprint": json.loads(EXAMPLE.read_text().replace('"version": 6', '"version": 1')),
    }
    old["scenarios"]["900"] = legacy
    path.write_text(json.dumps(old))
    restarted = Emulator(make_config(state_path=str(path)))
    try:
        kept = restarted.api.get("/scenarios/900").json()["scenario"]
        assert (kept["isinvalid"], kept["isActive"]) == (True, False)  # the catalogue refuses it
        hook, _ = provision(restarted, _route_by_lookup)
        restarted.send(hook, payload(cms, key="pub-1-g1"))
        restarted.wait_executions(1)
        assert json.loads(cms.requests[0][1])["external_id"] == "42"
        assert restarted.inspect("stats")["posts"] == 0
        assert json.loads(path.read_text())["version"] == 2
    finally:
        restarted.stop()


# -- IML ------------------------------------------------------------------------------------


def test_iml_keeps_the_json_of_a_callback_body_intact():
    bundles = {1: {"delivery_id": "pub-1", "attempt": 2}}
    body = render('{"id":"{{1.delivery_id}}","n":{{1.attempt}},"at":{{formatDate(now; X)}}}', bundles)
    assert json.loads(body)["n"] == 2 and json.loads(body)["id"] == "pub-1"
    assert render("{{1.attempt}}", bundles) == 2  # a lone expression keeps its type
    assert render("{{1.missing}}|", bundles) == "|"  # a missing key is empty, as in Make


def test_iml_refuses_what_it_cannot_evaluate():
    for template in ("{{7.x}}", "{{unknown(1)}}", "{{formatDate(now; YYYY)}}", "{{1.a"):
        with pytest.raises(IMLError):
            render(template, {1: {}})
