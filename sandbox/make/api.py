"""``/api/v2``: organisations, teams, connections and hooks (scenarios are in ``scenarios.py``)."""
from __future__ import annotations

import secrets
import string

from flask import Blueprint, jsonify, request

from . import core
from .apiutil import ApiError, before_api_request, bool_arg, int_arg, json_body, paginate, requires

bp = Blueprint("make_api", __name__, url_prefix="/api/v2")
bp.before_request(before_api_request)

HOOK_TYPES = ("gateway-webhook",)
_UDID_ALPHABET = string.ascii_lowercase + string.digits


@bp.get("/organizations")
@requires("organizations:read")
def list_organizations():
    return paginate(list(core.current().organizations.values()), "organizations")


@bp.get("/organizations/<int:organization_id>")
@requires("organizations:read")
def get_organization(organization_id):
    emulator = core.current()
    organization = _organization(organization_id)
    api_limit = emulator.knobs.rate_limit_per_minute or 1000
    return jsonify({"organization": {**organization, "license": {"apiLimit": api_limit}}})


@bp.get("/teams")
@requires("teams:read")
def list_teams():
    organization_id = _organization(int_arg("organizationId", required=True))["id"]
    teams = [t for t in core.current().teams.values() if t["organizationId"] == organization_id]
    return paginate(teams, "teams")


@bp.get("/connections")
@requires("connections:read")
def list_connections():
    team_id = team_or_404(int_arg("teamId", required=True))["id"]
    connections = [c for c in core.current().connections.values() if c["teamId"] == team_id]
    return paginate(connections, "connections")


@bp.post("/hooks")
@requires("hooks:write")
def create_hook():
    body = json_body({"name": "str", "teamId": "int", "typeName": "str", "method": "bool",
                      "headers": "bool", "stringify": "bool"})
    team_or_404(body["teamId"], status=400)
    if body["typeName"] not in HOOK_TYPES:
        raise ApiError(400, "Validation failed.",
                       [f"typeName must be one of {', '.join(HOOK_TYPES)}"])
    emulator = core.current()
    with emulator.state.change() as data:
        hook_id = emulator.state.allocate_id(data, "hook")
        data["hooks"][str(hook_id)] = {
            "id": hook_id, "name": body["name"], "teamId": body["teamId"],
            "udid": "".join(secrets.choice(_UDID_ALPHABET) for _ in range(32)),
            "type": "web", "typeName": body["typeName"], "enabled": True, "gone": False,
            "editable": True, "queueLimit": emulator.config.hook_queue_limit, "scenarioId": None,
            "data": {"headers": body["headers"], "method": body["method"],
                     "stringify": body["stringify"], "teamId": body["teamId"]},
            "queue": [],
        }
        return jsonify({"hook": hook_view(data["hooks"][str(hook_id)])})


@bp.get("/hooks")
@requires("hooks:read")
def list_hooks():
    team_id = team_or_404(int_arg("teamId", required=True))["id"]
    type_name, assigned = request.args.get("typeName"), bool_arg("assigned")
    with core.current().state.read() as data:
        hooks = [hook_view(hook) for hook in data["hooks"].values()
                 if hook["teamId"] == team_id
                 and (type_name is None or hook["typeName"] == type_name)
                 and (assigned is None or (hook["scenarioId"] is not None) == assigned)]
    return paginate(hooks, "hooks")


@bp.get("/hooks/<int:hook_id>")
@requires("hooks:read")
def get_hook(hook_id):
    with core.current().state.read() as data:
        return jsonify({"hook": hook_view(hook_or_404(data, hook_id))})


@bp.post("/hooks/<int:hook_id>/enable")
@requires("hooks:write")
def enable_hook(hook_id):
    return _set_enabled(hook_id, True)


@bp.post("/hooks/<int:hook_id>/disable")
@requires("hooks:write")
def disable_hook(hook_id):
    return _set_enabled(hook_id, False)


@bp.delete("/hooks/<int:hook_id>")
@requires("hooks:write")
def delete_hook(hook_id):
    confirmed = bool_arg("confirmed")
    with core.current().state.change() as data:
        hook = hook_or_404(data, hook_id)
        if hook["scenarioId"] is not None and not confirmed:
            raise ApiError(400, "The hook is used in a scenario.",
                           [f"hook {hook_id} is used by scenario {hook['scenarioId']}; "
                            "delete with confirmed=true"])
        scenario = data["scenarios"].get(str(hook["scenarioId"]))
        if scenario:  # its trigger is gone, so it can no longer run
            scenario.update(hookId=None, isActive=False, islinked=False)
        del data["hooks"][str(hook_id)]
    return jsonify({"hook": hook_id})


def _set_enabled(hook_id: int, enabled: bool):
    emulator = core.current()
    with emulator.state.change() as data:
        hook = hook_or_404(data, hook_id)
        if enabled and hook["gone"]:
            raise ApiError(400, "The hook is gone.", [f"hook {hook_id} expired; create a new one"])
        hook["enabled"] = enabled
    if enabled:
        emulator.runner.dispatch_queued(hook_id)
    return jsonify({"success": True})


def hook_view(hook: dict) -> dict:
    """The hook as the API shows it: the queue becomes ``queueCount`` and ``url`` is added."""
    view = {key: value for key, value in hook.items() if key != "queue"}
    view["queueCount"] = len(hook["queue"])
    view["packageName"] = None
    view["url"] = core.current().hook_url(hook["udid"], request.host_url)
    return view


def hook_or_404(data: dict, hook_id: int) -> dict:
    hook = data["hooks"].get(str(hook_id))
    if hook is None:
        raise ApiError(404, f"Hook {hook_id} not found.")
    return hook


def team_or_404(team_id: int, status: int = 404) -> dict:
    """The seeded team; a body naming an unknown team gets 400, a query 404."""
    team = core.current().teams.get(team_id)
    if team is None:
        raise ApiError(status, f"Team {team_id} not found.", [f"teamId {team_id} does not exist"])
    return team


def _organization(organization_id: int) -> dict:
    organization = core.current().organizations.get(organization_id)
    if organization is None:
        raise ApiError(404, f"Organization {organization_id} not found.")
    return organization
