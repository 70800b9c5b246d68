"""``/api/v2/scenarios``: create, clone, find, read, patch, start, stop, delete.

The strict parts of the contract live here: blueprint and scheduling arrive as JSON strings,
``hookId`` comes from ``flow[0].parameters.hook``, a hook serves one scenario only, a missing
connection or any problem ``validation.validate`` finds makes the scenario ``isinvalid`` (and
stops it), and ``start`` refuses an invalid scenario or one whose hook is missing or disabled.
"""

from __future__ import annotations

import copy

from flask import Blueprint, jsonify

from . import core
from .api import live_connections, team_or_404
from .apiutil import ApiError, before_api_request, bool_arg, int_arg, json_body, paginate, requires
from .blueprints import (
    CLONE_MAPS,
    blueprint_problems,
    connection_ids,
    parse_json_string,
    remap,
    scheduling_problems,
    trigger_hook_id,
    used_packages,
)
from .state import utc_now_iso
from .validation import validate

bp = Blueprint("make_scenarios", __name__, url_prefix="/api/v2/scenarios")
bp.before_request(before_api_request)


@bp.post("")
@requires("scenarios:write")
def create_scenario():
    body = json_body({"teamId": "int", "blueprint": "json-string", "scheduling": "json-string"}, {"folderId": "int?"})
    team_or_404(body["teamId"], status=400)
    blueprint, scheduling = _definition(body)
    emulator = core.current()
    with emulator.state.change() as data:
        _check_hook(data, None, body["teamId"], trigger_hook_id(blueprint))
        _install_apps(data, blueprint, bool_arg("confirmed"))
        scenario = _new_scenario(data, body["teamId"], body.get("folderId"), blueprint, scheduling)
        return jsonify({"scenario": scenario_view(scenario)})


@bp.post("/<int:template_id>/clone")
@requires("scenarios:write")
def clone_scenario(template_id):
    organization_id = int_arg("organizationId", required=True)
    if organization_id not in core.current().organizations:
        raise ApiError(404, f"Organization {organization_id} not found.")
    body = json_body(
        {"name": "str", "teamId": "int", "states": "bool"}, {name: "object" for name in ("hook", *CLONE_MAPS)}
    )
    team = team_or_404(body["teamId"], status=400)
    if team["organizationId"] != organization_id:
        raise ApiError(400, "Validation failed.", [f"team {team['id']} is not in organization {organization_id}"])
    hook_map = _id_map(body, "hook")
    maps = {name: _id_map(body, name) for name in CLONE_MAPS}
    with core.current().state.change() as data:
        template = scenario_or_404(data, template_id)
        if template["teamId"] != team["id"] and not bool_arg("notAnalyze"):
            _check_all_mapped(template["blueprint"], hook_map, maps["account"])
        blueprint = remap(template["blueprint"], hook_map, maps)
        blueprint["name"] = body["name"]
        _check_hook(data, None, team["id"], trigger_hook_id(blueprint))
        _install_apps(data, blueprint, bool_arg("confirmed"))
        scenario = _new_scenario(
            data, team["id"], template["folderId"], blueprint, copy.deepcopy(template["scheduling"])
        )
        return jsonify({"scenario": scenario_view(scenario)})


@bp.get("")
@requires("scenarios:read")
def list_scenarios():
    team_id, organization_id = int_arg("teamId"), int_arg("organizationId")
    if team_id is None and organization_id is None:
        raise ApiError(400, "Missing query parameter.", ["teamId or organizationId is required"])
    teams = core.current().teams
    if team_id is not None:
        team_or_404(team_id)
    with core.current().state.read() as data:
        found = [
            scenario_view(s)
            for s in data["scenarios"].values()
            if (team_id is None or s["teamId"] == team_id)
            and (organization_id is None or teams[s["teamId"]]["organizationId"] == organization_id)
        ]
    return paginate(found, "scenarios", sortable=("id", "name", "lastEdit"))


@bp.get("/<int:scenario_id>")
@requires("scenarios:read")
def get_scenario(scenario_id):
    with core.current().state.read() as data:
        return jsonify({"scenario": scenario_view(scenario_or_404(data, scenario_id))})


@bp.get("/<int:scenario_id>/blueprint")
@requires("scenarios:read")
def get_blueprint(scenario_id):
    bool_arg("draft")  # accepted and validated; the emulator keeps no separate draft
    with core.current().state.read() as data:
        scenario = scenario_or_404(data, scenario_id)
        return jsonify(
            {"code": "OK", "response": {"blueprint": scenario["blueprint"], "scheduling": scenario["scheduling"]}}
        )


@bp.patch("/<int:scenario_id>")
@requires("scenarios:write")
def update_scenario(scenario_id):
    body = json_body({}, {"name": "str", "folderId": "int?", "blueprint": "json-string", "scheduling": "json-string"})
    if not body:
        raise ApiError(400, "Nothing to update.", ["send name, folderId, blueprint or scheduling"])
    blueprint, scheduling = _definition(body)
    with core.current().state.change() as data:
        scenario = scenario_or_404(data, scenario_id)
        if blueprint is not None:
            new_hook = trigger_hook_id(blueprint)
            _check_hook(data, scenario_id, scenario["teamId"], new_hook)
            _install_apps(data, blueprint, bool_arg("confirmed"))
            _release_hook(data, scenario)
            _set_blueprint(data, scenario, blueprint)
        if "name" in body:
            scenario["name"] = scenario["blueprint"]["name"] = body["name"]
        if "folderId" in body:
            scenario["folderId"] = body["folderId"]
        if scheduling is not None:
            scenario["scheduling"] = scheduling
        scenario["lastEdit"] = utc_now_iso()
        return jsonify({"scenario": scenario_view(scenario)})


@bp.post("/<int:scenario_id>/start")
@requires("scenarios:write")
def start_scenario(scenario_id):
    emulator = core.current()
    with emulator.state.change() as data:
        scenario = scenario_or_404(data, scenario_id)
        problems = [
            f"connection {conn} does not exist in team {scenario['teamId']}"
            for conn in missing_connections(data, scenario["blueprint"], scenario["teamId"])
        ]
        problems += [f"{error['path']}: {error['problem']}" for error in validate(scenario["blueprint"])]
        hook = data["hooks"].get(str(scenario["hookId"]))
        if hook is None:
            problems.append("the scenario's webhook does not exist")
        elif not hook["enabled"] or hook["gone"]:
            problems.append(f"webhook {hook['id']} is disabled")
        if problems:
            raise ApiError(400, "The scenario cannot be activated.", problems)
        scenario.update(isActive=True, islinked=True)
        answer = {"id": scenario_id, "isActive": True, "islinked": True}
    emulator.runner.dispatch_queued(hook["id"])
    return jsonify({"scenario": answer})


@bp.post("/<int:scenario_id>/stop")
@requires("scenarios:write")
def stop_scenario(scenario_id):
    with core.current().state.change() as data:
        scenario = scenario_or_404(data, scenario_id)
        scenario.update(isActive=False, islinked=False)
    return jsonify({"scenario": {"id": scenario_id, "isActive": False, "islinked": False}})


@bp.delete("/<int:scenario_id>")
@requires("scenarios:write")
def delete_scenario(scenario_id):
    with core.current().state.change() as data:
        scenario = scenario_or_404(data, scenario_id)
        _release_hook(data, scenario)
        del data["scenarios"][str(scenario_id)]
    return jsonify({"scenario": scenario_id})


def scenario_view(scenario: dict) -> dict:
    return {key: value for key, value in scenario.items() if key != "blueprint"}


def scenario_or_404(data: dict, scenario_id: int) -> dict:
    scenario = data["scenarios"].get(str(scenario_id))
    if scenario is None:
        raise ApiError(404, f"Scenario {scenario_id} not found.")
    return scenario


def missing_connections(data: dict, blueprint: dict, team_id: int) -> list:
    """Connection ids the blueprint names that the team does not have (or no longer has)."""
    connections = live_connections(data)
    return [
        conn for conn in connection_ids(blueprint) if conn not in connections or connections[conn]["teamId"] != team_id
    ]


def _definition(body: dict) -> tuple[dict | None, dict | None]:
    """Decode and check ``blueprint`` and ``scheduling`` where present; 400 lists every problem."""
    problems, blueprint, scheduling = [], None, None
    if "blueprint" in body:
        blueprint, found = parse_json_string(body["blueprint"], "blueprint")
        problems += found or blueprint_problems(blueprint)
    if "scheduling" in body:
        scheduling, found = parse_json_string(body["scheduling"], "scheduling")
        problems += found or scheduling_problems(scheduling)
    if problems:
        raise ApiError(400, "Validation failed.", problems)
    return blueprint, scheduling


def _check_hook(data: dict, scenario_id: int | None, team_id: int, hook_id: int | None):
    """400 unless ``hook_id`` is absent or a hook of the team free for this scenario."""
    if hook_id is None:
        return
    hook = data["hooks"].get(str(hook_id))
    if hook is None:
        raise ApiError(400, "Validation failed.", [f"hook {hook_id} does not exist"])
    if hook["teamId"] != team_id:
        raise ApiError(400, "Validation failed.", [f"hook {hook_id} belongs to another team"])
    if hook["scenarioId"] not in (None, scenario_id):
        raise ApiError(
            400, "Validation failed.", [f"hook {hook_id} is already assigned to scenario {hook['scenarioId']}"]
        )


def _install_apps(data: dict, blueprint: dict, confirmed: bool | None):
    """Apps outside the organisation need ``confirmed=true``, which installs them."""
    installed = set(core.current().config.installed_apps) | set(data["installed_apps"])
    missing = [app for app in used_packages(blueprint) if app not in installed]
    if missing and not confirmed:
        raise ApiError(
            400,
            "The blueprint uses apps that are not installed.",
            [f"app {app} is not installed; repeat with confirmed=true" for app in missing],
        )
    data["installed_apps"].extend(missing)


def _new_scenario(data, team_id, folder_id, blueprint, scheduling) -> dict:
    scenario_id = core.current().state.allocate_id(data, "scenario")
    scenario = {
        "id": scenario_id,
        "name": blueprint["name"],
        "teamId": team_id,
        "folderId": folder_id,
        "hookId": None,
        "deviceId": None,
        "deviceScope": None,
        "concept": False,
        "description": "",
        "isinvalid": False,
        "islinked": False,
        "isActive": False,
        "islocked": False,
        "isPaused": False,
        "usedPackages": [],
        "lastEdit": utc_now_iso(),
        "scheduling": scheduling,
        "iswaiting": False,
        "dlqCount": 0,
        "nextExec": None,
        "blueprint": {},
    }
    data["scenarios"][str(scenario_id)] = scenario
    _set_blueprint(data, scenario, blueprint)
    return scenario


def _set_blueprint(data: dict, scenario: dict, blueprint: dict):
    """Store the blueprint and everything derived from it, and link its hook."""
    hook_id = trigger_hook_id(blueprint)
    invalid = bool(missing_connections(data, blueprint, scenario["teamId"]) or validate(blueprint))
    scenario.update(
        blueprint=blueprint,
        name=blueprint["name"],
        hookId=hook_id,
        usedPackages=used_packages(blueprint),
        isinvalid=invalid,
    )
    if invalid:  # an invalid scenario does not run (validation.py, docs/make-modules.md)
        scenario.update(isActive=False, islinked=False)
    if hook_id is not None:
        data["hooks"][str(hook_id)]["scenarioId"] = scenario["id"]


def _release_hook(data: dict, scenario: dict):
    hook = data["hooks"].get(str(scenario["hookId"]))
    if hook and hook["scenarioId"] == scenario["id"]:
        hook["scenarioId"] = None


def _id_map(body: dict, name: str) -> dict[int, int]:
    """A clone map ``{"<template id>": <target id>}`` as integers; 400 if it is not one."""
    raw = body.get(name, {})
    try:
        result = {int(key): value for key, value in raw.items()}
    except ValueError:
        result = None
    if result is None or not all(isinstance(v, int) and not isinstance(v, bool) for v in result.values()):
        raise ApiError(400, "Validation failed.", [f"{name} must map template ids to target ids (integers)"])
    return result


def _check_all_mapped(blueprint: dict, hook_map: dict, account_map: dict):
    """Across teams, every hook and connection of the template must be mapped."""
    hook = trigger_hook_id(blueprint)
    problems = [f"hook {hook} is not mapped"] if hook is not None and hook not in hook_map else []
    problems += [
        f"connection {conn} is not mapped (account)" for conn in connection_ids(blueprint) if conn not in account_map
    ]
    if problems:
        raise ApiError(400, "The clone needs a target for every entity; map them or pass notAnalyze=true.", problems)
