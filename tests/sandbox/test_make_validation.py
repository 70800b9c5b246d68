"""The strict emulator's blueprint validation: Make's structural rules, the module catalogue,
IML, and the public ``POST /api/v2/blueprints/validate`` endpoint (docs/make-modules.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx
import pytest

from sandbox.make.validation import validate
from tests.make_sandbox import ServedEmulator

LEGACY = json.loads((Path(__file__).parent / "fixtures" / "legacy_blueprints.json").read_text())
HTTP_FIXED = {
    "parseResponse": True,
    "stopOnHttpError": True,
    "allowRedirects": False,
    "shareCookies": False,
    "requestCompressedContent": False,
}


def _module(module_id, name, version=1, x=0, **fields):
    return {"id": module_id, "module": name, "version": version, "metadata": {"designer": {"x": x, "y": 0}}, **fields}


def small_blueprint() -> dict:
    """Webhook -> Data Store lookup -> signed HTTP callback, as Make's exports write them."""
    return {
        "name": "small",
        "flow": [
            _module(1, "gateway:CustomWebHook", parameters={"hook": 7, "maxResults": 1}, mapper={}),
            _module(
                2,
                "datastore:GetRecord",
                x=300,
                parameters={"datastore": 3},
                mapper={"key": "{{1.idempotency_key}}", "returnWrapped": False},
            ),
            _module(
                3,
                "util:SetVariables",
                x=600,
                parameters={},
                mapper={"scope": "roundtrip", "variables": [{"name": "ts", "value": '{{formatDate(now; "X")}}'}]},
            ),
            _module(
                4,
                "http:MakeRequest",
                4,
                x=900,
                parameters={"authenticationType": "noAuth"},
                mapper={
                    "url": "{{1.callback_url}}",
                    "method": "post",
                    "contentType": "json",
                    "inputMethod": "jsonString",
                    "jsonStringBodyContent": '{"ts": {{3.ts}}, "first": '
                    '"{{1.media[1].url}}", "seen": "{{2.external_id}}"}',
                    "headers": [
                        {"name": "webhook-signature", "value": '{{sha256(3.ts + "." + 1.id; "base64"; "c0ffee")}}'}
                    ],
                    **HTTP_FIXED,
                },
                onerror=[_module(5, "builtin:Break", x=900, mapper={"retry": True, "count": 3, "interval": 1})],
            ),
        ],
        "metadata": {
            "version": 1,
            "instant": True,
            "designer": {"orphans": []},
            "scenario": {"roundtrips": 1, "maxErrors": 3, "autoCommit": True, "dlq": True},
        },
    }


def problems(blueprint, **kwargs) -> list[tuple[str, str]]:
    return [(error["path"], error["problem"]) for error in validate(blueprint, **kwargs)]


def test_a_blueprint_written_as_exports_write_it_is_valid():
    assert validate(small_blueprint()) == []


def test_every_error_names_a_path_a_problem_and_a_fix():
    errors = validate(LEGACY["facebook"])
    assert errors and all(set(error) == {"path", "problem", "fix"} and error["fix"] for error in errors)


@pytest.mark.parametrize("platform", list(LEGACY))
def test_the_blueprints_built_by_hand_before_fail_with_their_reasons(platform):
    found = problems(LEGACY[platform])
    text = "\n".join(problem for _, problem in found)
    publish_path = "flow[2].routes[0].flow[0]"
    assert ("flow[1].mapper.returnWrapped", "datastore:GetRecord requires returnWrapped") in found
    assert "indexes an array with a dot" in text  # {{1.media.1.url}}
    assert "the bare text X is not a keyword" in text  # formatDate(now; X)
    assert "the bare text base64 is not a keyword" in text  # sha256(…; base64; key)
    assert "http:MakeRequest requires stopOnHttpError" in text
    assert "error.code is not evidenced; only error.message is" in text
    expected = {
        "facebook": "facebook-pages:CreatePost has no version 1",
        "instagram": None,  # the right module and version: its mapping fails instead
        "youtube": "module youtube:UploadVideo does not exist in Make's app catalogue",
        "linkedin": "module linkedin:CreateCompanyPost does not exist",
        "x": "module twitter:CreateTweet does not exist",
        "tiktok": "module tiktok:CreateVideoPost does not exist",
    }[platform]
    if expected:
        assert any(path.startswith(publish_path) and expected in problem for path, problem in found)
    else:
        assert (
            f"{publish_path}.mapper.image_url",
            "{{1.media.1.url}} indexes an array with a dot; Make reads that as a key and maps nothing",
        ) in found
        assert any("has no output 'url'" in problem for _, problem in found)


def _publish(blueprint: dict) -> dict:
    return blueprint["flow"][2]["routes"][0]["flow"][0]


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda m: m.update(version=1), ("version", "facebook-pages:CreatePost has no version 1")),
        (
            lambda m: m["mapper"].update(pageId=m["mapper"].pop("page_id")),
            ("mapper.page_id", "facebook-pages:CreatePost requires page_id"),
        ),
        (
            lambda m: m["mapper"].update(link="{{1.media.1.url}}"),
            ("mapper.link", "{{1.media.1.url}} indexes an array with a dot; Make reads that as a key and maps nothing"),
        ),
    ],
)
def test_a_copy_with_one_old_mistake_fails_for_that_mistake(change, expected):
    blueprint = copy.deepcopy(LEGACY["facebook"])
    publish = _publish(blueprint)
    publish.update(version=6)
    publish["mapper"] = {"page_id": "{{1.account_identifier}}", "message": "{{1.text}}"}
    change(publish)
    path, problem = expected
    assert ("flow[2].routes[0].flow[0]." + path, problem) in problems(blueprint)


def _first_http(blueprint):
    return blueprint["flow"][3]


@pytest.mark.parametrize(
    "change, path, problem",
    [
        (lambda b: b.update(extra=1), "extra", "unexpected top-level key 'extra'"),
        (lambda b: b["metadata"].update(version=2), "metadata.version", "metadata.version must be 1"),
        (lambda b: b["metadata"].pop("scenario"), "metadata.scenario", "metadata.scenario is required"),
        (lambda b: b["flow"][2].update(id=2), "flow[2].id", "duplicate module id 2"),
        (lambda b: b["flow"][2].update(id=0), "flow[2].id", "module id must be an integer >= 1 (got 0)"),
        (
            lambda b: b["flow"][2].update(module="util.SetVariables"),
            "flow[2].module",
            "invalid module identifier 'util.SetVariables'",
        ),
        (
            lambda b: b["flow"][2].update(module="util:SetVariablez"),
            "flow[2].module",
            "module util:SetVariablez does not exist in Make's app catalogue",
        ),
        (lambda b: b["flow"][2].update(version=3), "flow[2].version", "util:SetVariables has no version 3"),
        (
            lambda b: b["flow"][0].update(filter={"name": "f", "conditions": [[{"a": "1", "o": "exist"}]]}),
            "flow[0].filter",
            "the first module of a scenario must not have a filter",
        ),
        (
            lambda b: b["flow"][2]["mapper"].update(scope="forever"),
            "flow[2].mapper.scope",
            "'forever' is not a value of scope",
        ),
        (
            lambda b: _first_http(b)["mapper"].update(method="POST"),
            "flow[3].mapper.method",
            "'POST' is not a value of method",
        ),
        (
            lambda b: _first_http(b)["mapper"].pop("jsonStringBodyContent"),
            "flow[3].mapper.jsonStringBodyContent",
            "http:MakeRequest requires jsonStringBodyContent",
        ),
        (
            lambda b: _first_http(b)["mapper"].update(url="{{9.url}}"),
            "flow[3].mapper.url",
            "{{9.…}} points at a module that does not exist",
        ),
        (
            lambda b: b["flow"][1]["mapper"].update(key="{{3.ts}}"),
            "flow[1].mapper.key",
            "module 3 has not run when this value is mapped",
        ),
        (
            lambda b: _first_http(b)["mapper"].update(url="{{2.error.message}}"),
            "flow[3].mapper.url",
            "{{2.error}} exists only on that module's error route",
        ),
        (
            lambda b: _first_http(b)["mapper"].update(url="{{3.when}}"),
            "flow[3].mapper.url",
            "module 3 (util:SetVariables) has no output 'when'",
        ),
        (
            lambda b: _first_http(b)["mapper"].update(url="{{lower(1.url)}}{{upperCase(1.url)}}"),
            "flow[3].mapper.url",
            "upperCase() is not an IML function",
        ),
        (
            lambda b: _first_http(b)["mapper"].update(url="{{1.url"),
            "flow[3].mapper.url",
            "the expression does not parse: unterminated {{ in '{{1.url'",
        ),
        (
            lambda b: b["metadata"]["scenario"].update(dlq=False),
            "flow[3].onerror[0]",
            "builtin:Break stores incomplete executions, which this scenario does not allow",
        ),
    ],
)
def test_structure_catalogue_and_references(change, path, problem):
    blueprint = small_blueprint()
    change(blueprint)
    assert (path, problem) in problems(blueprint)


def test_routers_and_filters():
    blueprint = small_blueprint()
    router = _module(
        6,
        "builtin:BasicRouter",
        mapper={},
        routes=[{"flow": []}],
        filter={"name": "no", "conditions": [[{"a": "{{1.x}}", "o": "exist"}]]},
    )
    blueprint["flow"].append(router)
    http = blueprint["flow"][3]
    http["filter"] = {"name": "f", "conditions": [[{"a": "{{1.x}}", "o": "regex"}, {"a": "{{1.x.1}}", "o": "exist"}]]}
    found = problems(blueprint)
    assert ("flow[4].mapper", "router mapper must be null") in found
    assert ("flow[4].routes[0].flow", "route flow must be non-empty") in found
    assert ("flow[4].filter", "router must not carry a filter") in found
    assert any(
        path == "flow[3].filter.conditions[0][0].o" and "unknown filter operator 'regex'" in problem
        for path, problem in found
    )
    assert any(
        path == "flow[3].filter.conditions[0][1].a" and "indexes an array with a dot" in problem
        for path, problem in found
    )


def test_an_aggregator_names_its_feeder():
    blueprint = small_blueprint()
    blueprint["flow"][3:3] = [
        _module(6, "builtin:BasicFeeder", mapper={"array": "{{1.media}}"}),
        _module(7, "builtin:BasicAggregator", parameters={}, mapper={"url": "{{6.url}}"}),
    ]
    assert ("flow[4].parameters.feeder", "builtin:BasicAggregator requires feeder") in problems(blueprint)


def test_an_importable_blueprint_carries_no_account_binding_and_no_exporter_metadata():
    blueprint = small_blueprint()
    blueprint["flow"][0]["metadata"]["restore"] = {}
    blueprint["flow"][2]["metadata"].pop("designer")
    blueprint["metadata"]["designer"].pop("orphans")
    found = problems(blueprint, shareable=True)
    assert ("flow[2].metadata.designer", "metadata.designer.x/y coordinates are required") in found
    assert ("metadata.designer.orphans", "metadata.designer.orphans is required") in found
    assert ("flow[0].parameters.hook", "parameters.hook is an account binding") in found
    assert ("flow[1].parameters.datastore", "parameters.datastore is an account binding") in found
    assert ("flow[0].metadata.restore", "module metadata.restore is exporter-only") in found
    assert validate(blueprint) == []  # the same blueprint is fine to create a scenario from


@pytest.fixture(scope="module")
def served():
    emulator = ServedEmulator()
    yield emulator
    emulator.stop()


def test_the_endpoint_answers_without_a_token(served):
    served.reset()
    endpoint = f"{served.url}/api/v2/blueprints/validate"
    good = httpx.post(endpoint, json={"blueprint": small_blueprint()})
    assert (good.status_code, good.json()) == (200, {"valid": True, "errors": []})
    bad = httpx.post(endpoint, json={"blueprint": LEGACY["linkedin"]}).json()
    assert bad["valid"] is False and {"path", "problem", "fix"} == set(bad["errors"][0])
    assert httpx.post(endpoint, json={"nothing": 1}).status_code == 400


def test_the_endpoint_is_403_when_the_zone_lacks_it_and_429_beyond_its_rate(served):
    served.reset()
    endpoint = f"{served.url}/api/v2/blueprints/validate"
    served.knobs(validate_endpoint=False)
    refused = httpx.post(endpoint, json={"blueprint": small_blueprint()})
    assert refused.status_code == 403 and refused.json()["code"] == "SC403"
    served.knobs(validate_endpoint=True, validate_rate_limit_per_minute=2)
    statuses = [httpx.post(endpoint, json={"blueprint": small_blueprint()}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
