"""Reading and checking blueprints and scheduling, the two JSON strings a scenario travels with.

These helpers know the blueprint's shape (docs/external-apis.md §1.4) and nothing of HTTP: they
return lists of problems, which the API turns into 400 ``suberrors``.
"""

from __future__ import annotations

import copy
import json

TRIGGER_MODULE = "gateway:CustomWebHook"
ROUTER_MODULE = "builtin:BasicRouter"
SCHEDULING_TYPES = ("immediately", "indefinitely", "once", "daily", "weekly", "monthly", "yearly", "on-demand")


def parse_json_string(value, field: str) -> tuple[object, list[str]]:
    """Decode a field that the API receives as a JSON *string*; (value, problems)."""
    if not isinstance(value, str):
        return None, [f"{field} must be a JSON string, got {type(value).__name__}"]
    try:
        return json.loads(value), []
    except json.JSONDecodeError as exc:
        return None, [f"{field} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]


def blueprint_problems(blueprint) -> list[str]:
    """What makes ``blueprint`` unacceptable as a scenario; empty when it is fine."""
    if not isinstance(blueprint, dict):
        return ["blueprint must be a JSON object"]
    problems = []
    if not isinstance(blueprint.get("name"), str) or not blueprint["name"].strip():
        problems.append("blueprint.name must be a non-empty string")
    flow = blueprint.get("flow")
    if not isinstance(flow, list) or not flow:
        return problems + ["blueprint.flow must be a non-empty array of modules"]
    seen_ids = set()
    for module in walk_modules(flow):
        if not isinstance(module, dict):
            problems.append("every module must be a JSON object")
            continue
        module_id = module.get("id")
        if not isinstance(module_id, int) or isinstance(module_id, bool):
            problems.append(f"module {module.get('module')!r}: id must be an integer")
        elif module_id in seen_ids:
            problems.append(f"module id {module_id} is used twice")
        seen_ids.add(module_id)
        name = module.get("module")
        if not isinstance(name, str) or ":" not in name:
            problems.append(f"module {module_id}: module must be \"app:Module\"")
        for key in ("parameters", "mapper"):
            # Exported routers carry "mapper": null; anything else must be an object.
            if (
                key in module
                and not isinstance(module[key], dict)
                and not (key == "mapper" and module[key] is None and name == ROUTER_MODULE)
            ):
                problems.append(f"module {module_id}: {key} must be an object")
        if "filter" in module and not _is_filter(module["filter"]):
            problems.append(f"module {module_id}: filter must be {{\"name\", \"conditions\": [[...]]}}")
    first = flow[0]
    if isinstance(first, dict) and isinstance(first.get("parameters"), dict):
        hook = first["parameters"].get("hook")
        if (
            first.get("module") == TRIGGER_MODULE
            and hook is not None
            and (not isinstance(hook, int) or isinstance(hook, bool))
        ):
            problems.append("flow[0].parameters.hook must be an integer hook id")
    return problems


def scheduling_problems(scheduling) -> list[str]:
    if not isinstance(scheduling, dict):
        return ["scheduling must be a JSON object"]
    kind = scheduling.get("type")
    if kind not in SCHEDULING_TYPES:
        return [f"scheduling.type must be one of {', '.join(SCHEDULING_TYPES)}"]
    interval = scheduling.get("interval")
    if kind == "indefinitely" and (not isinstance(interval, int) or isinstance(interval, bool) or interval <= 0):
        return ["scheduling.interval must be a positive integer for type indefinitely"]
    return []


def _is_filter(value) -> bool:
    conditions = value.get("conditions") if isinstance(value, dict) else None
    return isinstance(conditions, list) and all(
        isinstance(group, list) and all(isinstance(c, dict) and "o" in c for c in group) for group in conditions
    )


def walk_modules(flow: list):
    """Every module of a flow, including error-handler routes and router branches."""
    for module in flow:
        yield module
        if not isinstance(module, dict):
            continue
        if isinstance(module.get("onerror"), list):
            yield from walk_modules(module["onerror"])
        for route in module.get("routes") or []:
            if isinstance(route, dict) and isinstance(route.get("flow"), list):
                yield from walk_modules(route["flow"])


def trigger_hook_id(blueprint: dict) -> int | None:
    """``flow[0].parameters.hook`` when the scenario starts with a custom webhook."""
    first = blueprint["flow"][0]
    if first.get("module") != TRIGGER_MODULE:
        return None
    hook = (first.get("parameters") or {}).get("hook")
    return hook if isinstance(hook, int) and not isinstance(hook, bool) else None


def connection_ids(blueprint: dict) -> list:
    """The ``__IMTCONN__`` value of every platform module, in flow order."""
    return [
        module["parameters"]["__IMTCONN__"]
        for module in walk_modules(blueprint["flow"])
        if "__IMTCONN__" in (module.get("parameters") or {})
    ]


def used_packages(blueprint: dict) -> list[str]:
    return sorted({module["module"].split(":", 1)[0] for module in walk_modules(blueprint["flow"])})


# Clone maps: which parameter of a module each map of the clone request rewrites.
CLONE_MAPS = {
    "account": "__IMTCONN__",
    "key": "__IMTKEY__",
    "datastore": "datastore",
    "udt": "udt",
    "device": "__IMTDEV__",
}


def remap(blueprint: dict, hook_map: dict[int, int], maps: dict[str, dict[int, int]]) -> dict:
    """A copy of ``blueprint`` with template ids replaced by target ids (scenario clone)."""
    copied = copy.deepcopy(blueprint)
    for module in walk_modules(copied["flow"]):
        parameters = module.get("parameters") or {}
        if module.get("module") == TRIGGER_MODULE and parameters.get("hook") in hook_map:
            parameters["hook"] = hook_map[parameters["hook"]]
        for map_name, parameter in CLONE_MAPS.items():
            if parameters.get(parameter) in maps.get(map_name, {}):
                parameters[parameter] = maps[map_name][parameters[parameter]]
    return copied
