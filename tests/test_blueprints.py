"""The project's scenario blueprints, rendered and run as they are by the Make emulator."""
from __future__ import annotations

import json
import threading

import httpx
import pytest

from app.hooks import signature
from app.integrations import blueprints
from app.integrations.make import MakeClient, MakeConfig
from sandbox.server import BackgroundServer
from tests.make_sandbox import CONNECTIONS, SECRET, ServedEmulator, wait_for

OUTBOUND = ("datastore:", "http:")


class Receiver:
    """Stands for the CMS's POST /hooks/make: keeps every callback."""

    def __init__(self):
        self.calls: list[tuple[dict, bytes]] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        with self._lock:
            self.calls.append((headers, body))
        start_response("204 No Content", [])
        return [b""]


@pytest.fixture(scope="module")
def stack():
    emulator, receiver = ServedEmulator(), Receiver()
    with BackgroundServer(receiver) as cms:
        yield emulator, receiver, cms.url + "/hooks/make"
    emulator.stop()


def _rendered(platform: str, hook_id: int = 4711) -> dict:
    return blueprints.render(platform, name=f"cms-test-c1-a1-{platform}", hook_id=hook_id,
                             connection_id=CONNECTIONS[platform], datastore_id=3, secret=SECRET)


@pytest.mark.parametrize("platform", blueprints.PLATFORMS)
def test_render_fills_every_placeholder(platform):
    blueprint = _rendered(platform)
    text = json.dumps(blueprint)
    parameters = [value for module in blueprints.walk_modules(blueprint["flow"])
                  for value in (module.get("parameters") or {}).values()]
    assert blueprints.SECRET_PLACEHOLDER not in text and None not in parameters
    assert blueprint["name"] == f"cms-test-c1-a1-{platform}"
    assert blueprints.bindings(blueprint) == (4711, {CONNECTIONS[platform]})
    assert blueprint["metadata"]["scenario"]["confidential"] is True
    assert blueprint["metadata"]["scenario"]["dlq"] is True


@pytest.mark.parametrize("platform", blueprints.PLATFORMS)
def test_every_module_that_can_fail_has_an_error_handler(platform):
    flow = blueprints.load(platform)["flow"]
    for module in blueprints.walk_modules(flow[1:]):
        name = module["module"]
        if name.startswith(OUTBOUND) or "__IMTCONN__" in (module.get("parameters") or {}):
            assert module.get("onerror"), f"{platform}: module {module['id']} {name}"


@pytest.mark.parametrize("kwargs,problem", [
    ({"secret": "not hex at all, not long"}, "MAKE_CALLBACK_SECRET"),
    ({"secret": "ab" * 8}, "MAKE_CALLBACK_SECRET"),
    ({"hook_id": 0}, "hook id"),
    ({"connection_id": "77"}, "connection id"),
    ({"datastore_id": None}, "Data Store id"),
])
def test_render_refuses_what_would_make_a_broken_scenario(kwargs, problem):
    settings = {"name": "n", "hook_id": 1, "connection_id": 2, "datastore_id": 3, "secret": SECRET,
                **kwargs}
    with pytest.raises(blueprints.BlueprintError, match=problem):
        blueprints.render("x", **settings)


def test_replace_secret_swaps_the_old_key_text():
    swapped, changed = blueprints.replace_secret(_rendered("facebook"), SECRET, "0d" * 32)
    assert changed == 3 and SECRET not in json.dumps(swapped)  # the three signature headers


@pytest.mark.parametrize("platform", blueprints.PLATFORMS)
def test_each_blueprint_publishes_once_and_calls_back_signed(stack, platform):
    emulator, receiver, callback_url = stack
    emulator.reset()
    receiver.calls.clear()
    with MakeClient(MakeConfig.from_settings(emulator.settings())) as make:
        hook = make.create_hook(f"cms-test-{platform}")
        scenario = make.create_scenario(_rendered(platform, hook["id"]))
        make.start_scenario(scenario["id"])
        payload = {"delivery_id": "pub-7", "idempotency_key": f"pub-7-g1-{platform}", "attempt": 1,
                   "fingerprint": "sha256:abc", "platform": platform, "text": "Rendez-vous",
                   "account_identifier": "1", "media": [{"url": "https://cms.example/m/t"}],
                   "callback_url": callback_url}
        for _ in range(2):  # the same key twice: one post, two callbacks
            assert httpx.post(make.hook_url(hook), json=payload).text == "Accepted"
        wait_for(lambda: len(receiver.calls) == 2)
        assert make.get_scenario(scenario["id"])["isActive"] is True
    assert emulator.inspect("posts")["max_per_key"] == 1
    # The second run took the "already published" route: the Data Store lookup and the
    # filters kept it away from the network module (real Make would have posted again).
    stats = emulator.inspect("stats")
    assert stats["republish_blocked"] == 0 and stats["executions_by_status"] == {"success": 2}
    for headers, body in receiver.calls:
        # The CMS's own verifier (POST /hooks/make) accepts what the blueprint signed.
        assert signature.verify(headers, body, [SECRET]) == "pub-7:published:1"
        callback = json.loads(body)
        assert callback["status"] == "published" and callback["error"] is None
        assert callback["idempotency_key"] == payload["idempotency_key"] and callback["external_id"]
    assert json.loads(receiver.calls[0][1])["external_id"] == json.loads(receiver.calls[1][1])["external_id"]


def test_a_refused_post_calls_back_failed_and_keeps_the_scenario_active(stack):
    emulator, receiver, callback_url = stack
    emulator.reset()
    receiver.calls.clear()
    # A network's message may hold anything: the callback's JSON must survive quotes,
    # backslashes and line breaks (module 14 serialises it before it is spliced in).
    message = 'Le réseau a dit "non" \\ {"code": 190}\nretry later'
    emulator.knobs(outcome="failed", failure_message=message)
    with MakeClient(MakeConfig.from_settings(emulator.settings())) as make:
        hook = make.create_hook("cms-test-failing")
        scenario = make.create_scenario(_rendered("instagram", hook["id"]))
        make.start_scenario(scenario["id"])
        httpx.post(make.hook_url(hook), json={"delivery_id": "pub-8", "idempotency_key": "pub-8-g1",
                                              "attempt": 2, "fingerprint": "f",
                                              "callback_url": callback_url})
        wait_for(lambda: receiver.calls)
        assert make.get_scenario(scenario["id"])["isActive"] is True
    headers, body = receiver.calls[0]
    callback = json.loads(body)
    assert signature.verify(headers, body, [SECRET]) == "pub-8:failed:2"
    assert callback["status"] == "failed"
    assert callback["error"] == {"code": "EMULATED_FAILURE", "message": message}
    assert callback["external_id"] is None and emulator.inspect("posts")["posts"] == []
