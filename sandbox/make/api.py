"""``/api/v2``: the user and the token, organisations, teams, connections, data stores and their
structures, and hooks (scenarios are in ``scenarios.py``).

Shapes follow Make's API as the official TypeScript SDK reads it (``integromat/make-typescript-sdk``
``src/endpoints/*.ts`` and ``test/mocks/*``): ``{"authUser"}`` for ``/users/me``,
``{"authorization": {"authUsed", "scope"}}`` for the token's scopes, ``{"dataStore"}`` and
``{"dataStructure"}`` (``spec`` lists the record's fields), ``{"connection"}`` whose
``accountName`` is the connection's type.
"""

from __future__ import annotations

import secrets
import string

from flask import Blueprint, g, jsonify, request

from . import core
from .apiutil import ApiError, before_api_request, bool_arg, int_arg, json_body, paginate, requires
from .blueprints import connection_ids

bp = Blueprint("make_api", __name__, url_prefix="/api/v2")
bp.before_request(before_api_request)

HOOK_TYPES = ("gateway-webhook",)
# The seeded Data Store of published keys (id 1 in the first team) and its structure: the CMS
# needs the text fields external_id and external_url (docs/make-modules.md).
DATA_STORE_ID = DATA_STRUCTURE_ID = 1
DATA_STRUCTURE_SPEC = [
    {"name": "external_id", "type": "text", "label": "External id", "required": False},
    {"name": "external_url", "type": "text", "label": "External URL", "required": False},
]
_UDID_ALPHABET = string.ascii_lowercase + string.digits


@bp.get("/users/me")
def get_me():
    """Any valid token may ask who it belongs to."""
    return jsonify(
        {
            "authUser": {
                "id": 1,
                "name": "Sandbox Maker",
                "email": "maker@sandbox.invalid",
                "language": "en",
                "timezone": "Europe/Paris",
                "locale": "fr",
            }
        }
    )


@bp.get("/users/me/current-authorization")
def current_authorization():
    return jsonify({"authorization": {"authUsed": "token", "scope": list(g.scopes)}})


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


@bp.get("/teams/<int:team_id>")
@requires("teams:read")
def get_team(team_id):
    return jsonify({"team": team_or_404(team_id)})


@bp.get("/connections")
@requires("connections:read")
def list_connections():
    team_id = team_or_404(int_arg("teamId", required=True))["id"]
    with core.current().state.read() as data:
        connections = [c for c in live_connections(data).values() if c["teamId"] == team_id]
    return paginate(connections, "connections")


@bp.get("/connections/<int:connection_id>")
@requires("connections:read")
def get_connection(connection_id):
    with core.current().state.read() as data:
        connection = live_connections(data).get(connection_id)
    if connection is None:
        raise ApiError(404, f"Connection {connection_id} not found.")
    return jsonify(
        {
            "connection": {
                **connection,
                "accountLabel": connection["name"],
                "accountType": "oauth",
                "scoped": True,
                "editable": False,
            }
        }
    )


@bp.delete("/connections/<int:connection_id>")
@requires("connections:write")
def delete_connection(connection_id):
    """Scenarios that use it become invalid, as when a connection is removed in Make."""
    with core.current().state.change() as data:
        if connection_id not in live_connections(data):
            raise ApiError(404, f"Connection {connection_id} not found.")
        data.setdefault("deleted_connections", []).append(connection_id)
        for scenario in data["scenarios"].values():
            if connection_id in connection_ids(scenario["blueprint"]):
                scenario["isinvalid"] = True
    return jsonify({"connection": connection_id})


def live_connections(data: dict) -> dict:
    """The seeded connections minus those deleted through the API (kept in the state)."""
    return core.current().live_connections(data)


@bp.get("/data-stores")
@requires("datastores:read")
def list_data_stores():
    team_id = team_or_404(int_arg("teamId", required=True))["id"]
    with core.current().state.read() as data:
        stores = [store for store in _data_stores(data).values() if store["teamId"] == team_id]
    return paginate(stores, "dataStores")


@bp.get("/data-stores/<int:data_store_id>")
@requires("datastores:read")
def get_data_store(data_store_id):
    with core.current().state.read() as data:
        store = _data_stores(data).get(data_store_id)
    if store is None:
        raise ApiError(404, f"Data store {data_store_id} not found.")
    return jsonify({"dataStore": store})


@bp.get("/data-stores/<int:data_store_id>/data")
@requires("datastores:read")
def list_data_store_records(data_store_id):
    """The store's records as Make's API reference lists them (``GET /data-stores/{id}/data``:
    ``{"records": [{"key", "data"}], "spec", "strict", "count", "pg"}``), in insertion order."""
    offset = int_arg("pg[offset]", default=0, minimum=0)
    limit = int_arg(
        "pg[limit]",
        default=core.current().config.default_page_limit,
        minimum=1,
        maximum=core.current().config.max_page_limit,
    )
    with core.current().state.read() as data:
        if data_store_id not in _data_stores(data):
            raise ApiError(404, f"Data store {data_store_id} not found.")
        records = [{"key": key, "data": dict(record)} for key, record in data["datastore"].items()]
    return jsonify(
        {
            "records": records[offset : offset + limit],
            "spec": DATA_STRUCTURE_SPEC,
            "strict": False,
            "count": len(records),
            "pg": {"limit": limit, "offset": offset},
        }
    )


@bp.delete("/data-stores/<int:data_store_id>")
@requires("datastores:write")
def delete_data_store(data_store_id):
    if not bool_arg("confirmed"):
        raise ApiError(400, "Deleting a data store needs confirmed=true.")
    with core.current().state.change() as data:
        if data_store_id not in _data_stores(data):
            raise ApiError(404, f"Data store {data_store_id} not found.")
        data.setdefault("deleted_data_stores", []).append(data_store_id)
    return jsonify({"dataStore": data_store_id})


@bp.get("/data-structures/<int:data_structure_id>")
@requires("datastores:read")
def get_data_structure(data_structure_id):
    if data_structure_id != DATA_STRUCTURE_ID:
        raise ApiError(404, f"Data structure {data_structure_id} not found.")
    return jsonify(
        {
            "dataStructure": {
                "id": DATA_STRUCTURE_ID,
                "name": "cms-published",
                "teamId": _first_team_id(),
                "spec": DATA_STRUCTURE_SPEC,
                "strict": False,
            }
        }
    )


def _data_stores(data: dict) -> dict:
    if DATA_STORE_ID in data.get("deleted_data_stores", ()):
        return {}
    return {
        DATA_STORE_ID: {
            "id": DATA_STORE_ID,
            "name": "cms-published-keys",
            "records": len(data["datastore"]),
            "size": "0",
            "maxSize": "1048576",
            "teamId": _first_team_id(),
            "datastructureId": DATA_STRUCTURE_ID,
        }
    }


def _first_team_id() -> int:
    return next(iter(core.current().teams))


@bp.post("/hooks")
@requires("hooks:write")
def create_hook():
    body = json_body(
        {"name": "str", "teamId": "int", "typeName": "str", "method": "bool", "headers": "bool", "stringify": "bool"}
    )
    team_or_404(body["teamId"], status=400)
    if body["typeName"] not in HOOK_TYPES:
        raise ApiError(400, "Validation failed.", [f"typeName must be one of {', '.join(HOOK_TYPES)}"])
    emulator = core.current()
    with emulator.state.change() as data:
        hook_id = emulator.state.allocate_id(data, "hook")
        data["hooks"][str(hook_id)] = {
            "id": hook_id,
            "name": body["name"],
            "teamId": body["teamId"],
            "udid": "".join(secrets.choice(_UDID_ALPHABET) for _ in range(32)),
            "type": "web",
            "typeName": body["typeName"],
            "enabled": True,
            "gone": False,
            "editable": True,
            "queueLimit": emulator.config.hook_queue_limit,
            "scenarioId": None,
            "data": {
                "headers": body["headers"],
                "method": body["method"],
                "stringify": body["stringify"],
                "teamId": body["teamId"],
            },
            "queue": [],
        }
        return jsonify({"hook": hook_view(data["hooks"][str(hook_id)])})


@bp.get("/hooks")
@requires("hooks:read")
def list_hooks():
    team_id = team_or_404(int_arg("teamId", required=True))["id"]
    type_name, assigned = request.args.get("typeName"), bool_arg("assigned")
    with core.current().state.read() as data:
        hooks = [
            hook_view(hook)
            for hook in data["hooks"].values()
            if hook["teamId"] == team_id
            and (type_name is None or hook["typeName"] == type_name)
            and (assigned is None or (hook["scenarioId"] is not None) == assigned)
        ]
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
            raise ApiError(
                400,
                "The hook is used in a scenario.",
                [f"hook {hook_id} is used by scenario {hook['scenarioId']}; delete with confirmed=true"],
            )
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
