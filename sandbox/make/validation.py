"""What Make refuses in a blueprint, and its public validation endpoint.

:func:`validate` returns ``[{"path", "problem", "fix"}]`` (empty when the blueprint is valid):

* the structural rules of Make's own ``scripts/validate.mjs`` (integromat/make-blueprints):
  top-level keys, ``metadata.version`` 1, ``metadata.scenario``, integer module ids >= 1 and
  unique, ``app:Module`` ids, positive versions, routers (``mapper: null``, non-empty routes,
  no filter, last of their route), aggregator feeders, no filter on the first module, every
  ``{{N.…}}`` naming an existing module;
* the module catalogue (``catalogue.py``): unknown module or version, a required field
  missing or empty, a value outside its list, a reference to an output the module does not
  have (``{{3.url}}`` of a module that outputs ``id``; only ``error.message`` on an error
  route), a reference to a module that has not run at that point;
* IML (``iml.lint``): a dot-indexed array (``{{1.media.1.url}}``), an unquoted word where
  Make's examples always quote (``formatDate(now; X)``), an unknown function;
* ``builtin:Break`` needs ``metadata.scenario.dlq`` (incomplete executions stored).

``shareable=True`` adds the rules validate.mjs sets for a published, importable blueprint:
designer coordinates on every module and ``metadata.designer.orphans``, no account bindings
(``__IMTCONN__``, ``hook``, ``datastore``…) and no exporter-only module metadata. Make's API
takes blueprints without designer data (a layout), so they do not make a scenario invalid.

``POST /api/v2/blueprints/validate`` with ``{"blueprint": {...}}`` answers
``{"valid", "errors"}`` without authentication, 403 when the knob ``validate_endpoint`` is off
(a zone without the feature) and 429 beyond ``validate_rate_limit_per_minute``, as
``scripts/validate-live.mjs`` expects (docs/make-modules.md).
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

from . import catalogue, core
from .apiutil import ApiError, RATE_LIMIT_MESSAGE
from .iml_lint import lint

MODULE_ID = re.compile(r"^[a-z][a-z0-9-]*:[A-Za-z0-9]+$")
TOP_LEVEL = ("name", "description", "flow", "metadata")
BINDINGS = (
    "__IMTCONN__",
    "__IMTKEY__",
    "hook",
    "datastore",
    "agent",
    "apiKeyKeychain",
    "basicAuthKeychain",
    "oAuthAccount",
    "proxyKeychain",
    "bodyDataStructure",
)
EXPORTER_METADATA = ("restore", "expect", "interface", "parameters", "advanced")
ERROR_KEY = "error"

bp = Blueprint("make_validation", __name__, url_prefix="/api/v2/blueprints")


@bp.post("/validate")
def validate_endpoint():
    emulator = core.current()
    if not emulator.knobs.validate_endpoint:
        raise ApiError(403, "Public blueprint validation is not enabled in this zone.")
    if not emulator.allow_validate_call():
        raise ApiError(429, RATE_LIMIT_MESSAGE)
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict) or "blueprint" not in body:
        raise ApiError(400, "Send {\"blueprint\": {...}} as application/json.")
    errors = validate(body["blueprint"])
    return jsonify({"valid": not errors, "errors": errors})


def validate(blueprint, *, shareable: bool = False) -> list[dict]:
    """Every problem of ``blueprint``, each ``{"path", "problem", "fix"}``."""
    check = _Check(shareable)
    if not isinstance(blueprint, dict):
        check.fail("", "the blueprint is not a JSON object", "send the exported blueprint object")
        return check.errors
    check.top_level(blueprint)
    flow = blueprint.get("flow")
    if isinstance(flow, list) and flow:
        dlq = ((blueprint.get("metadata") or {}).get("scenario") or {}).get("dlq") is True
        check.flow(flow, "flow", upstream=(), dlq=dlq, error_of=())
        check.references()
    return check.errors


class _Check:
    def __init__(self, shareable: bool):
        self.shareable, self.errors = shareable, []
        self.modules: dict[int, dict] = {}  # id -> module
        self.uses: list[tuple] = []  # (path, ref, upstream ids, error_of ids)

    def fail(self, path: str, problem: str, fix: str) -> None:
        self.errors.append({"path": path, "problem": problem, "fix": fix})

    def top_level(self, blueprint: dict) -> None:
        for key in blueprint:
            if key not in TOP_LEVEL:
                self.fail(key, f"unexpected top-level key {key!r}", f"keep only {', '.join(TOP_LEVEL)}")
        name = blueprint.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 120:
            self.fail("name", "name must be a 1-120 character string", "give the scenario a name")
        if not isinstance(blueprint.get("flow"), list) or not blueprint["flow"]:
            self.fail("flow", "flow must be a non-empty array of modules", "start the flow with a trigger module")
        metadata = blueprint.get("metadata") if isinstance(blueprint.get("metadata"), dict) else {}
        if metadata.get("version") != 1:
            self.fail("metadata.version", "metadata.version must be 1", "set metadata.version to 1")
        if not isinstance(metadata.get("scenario"), dict):
            self.fail(
                "metadata.scenario",
                "metadata.scenario is required",
                "add the scenario settings (roundtrips, maxErrors, autoCommit, …)",
            )
        if self.shareable and not isinstance((metadata.get("designer") or {}).get("orphans"), list):
            self.fail(
                "metadata.designer.orphans",
                "metadata.designer.orphans is required",
                "add \"designer\": {\"orphans\": []}",
            )

    def flow(self, flow: list, path: str, *, upstream: tuple, dlq: bool, error_of: tuple) -> None:
        for index, module in enumerate(flow):
            where = f"{path}[{index}]"
            if not isinstance(module, dict):
                self.fail(where, "a module must be a JSON object", "remove or fix the item")
                continue
            self.module(
                module, where, first=path == "flow" and index == 0, upstream=upstream, dlq=dlq, error_of=error_of
            )
            if module.get("module") == "builtin:BasicRouter" and index != len(flow) - 1:
                self.fail(
                    where, "a router must be the last module of its route", "move the modules after it into its routes"
                )
            if isinstance(module.get("onerror"), list):
                self.flow(
                    module["onerror"],
                    f"{where}.onerror",
                    dlq=dlq,
                    upstream=upstream + (module.get("id"),),
                    error_of=error_of + (module.get("id"),),
                )
            for number, route in enumerate(module.get("routes") or []):
                route_flow = route.get("flow") if isinstance(route, dict) else None
                if isinstance(route_flow, list):
                    self.flow(
                        route_flow, f"{where}.routes[{number}].flow", upstream=upstream, dlq=dlq, error_of=error_of
                    )
            upstream = upstream + (module.get("id"),)

    def module(self, module: dict, where: str, *, first: bool, upstream: tuple, dlq: bool, error_of: tuple) -> None:
        module_id, name, version = module.get("id"), module.get("module"), module.get("version")
        if not isinstance(module_id, int) or isinstance(module_id, bool) or module_id < 1:
            self.fail(
                f"{where}.id", f"module id must be an integer >= 1 (got {module_id!r})", "number modules 1, 2, 3, …"
            )
        elif module_id in self.modules:
            self.fail(f"{where}.id", f"duplicate module id {module_id}", "give each module its own id")
        else:
            self.modules[module_id] = module
        if not isinstance(name, str) or not MODULE_ID.match(name):
            self.fail(
                f"{where}.module",
                f"invalid module identifier {name!r}",
                "write it app:ModuleName, as an export shows it",
            )
            return
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.fail(
                f"{where}.version",
                "module version must be a positive integer",
                "use the version an export of this module shows",
            )
        self.designer(module, where)
        if first and module.get("filter"):
            self.fail(
                f"{where}.filter",
                "the first module of a scenario must not have a filter",
                "move the filter to the module after the trigger",
            )
        known = catalogue.find(name)
        if known is None:
            self.fail(
                f"{where}.module",
                f"module {name} does not exist in Make's app catalogue",
                "use a module id and version read from a real export (docs/make-modules.md)",
            )
        elif version not in known.versions:
            self.fail(f"{where}.version", f"{name} has no version {version}", f"use version {known.versions[-1]}")
        else:
            self.fields(known, module, where)
            self.kind_rules(known, module, where, dlq)
        if module.get("filter") is not None:
            self.filter(module["filter"], f"{where}.filter", upstream, error_of)
        for key in ("parameters", "mapper"):
            self.iml(module.get(key), f"{where}.{key}", upstream, error_of)

    def designer(self, module: dict, where: str) -> None:
        metadata = module.get("metadata") if isinstance(module.get("metadata"), dict) else {}
        designer = metadata.get("designer") or {}
        if self.shareable and not all(isinstance(designer.get(axis), (int, float)) for axis in ("x", "y")):
            self.fail(
                f"{where}.metadata.designer",
                "metadata.designer.x/y coordinates are required",
                "add \"metadata\": {\"designer\": {\"x\": 0, \"y\": 0}}",
            )
        if self.shareable:
            for key in metadata:
                if key in EXPORTER_METADATA:
                    self.fail(
                        f"{where}.metadata.{key}",
                        f"module metadata.{key} is exporter-only",
                        "keep only metadata.designer in an importable blueprint",
                    )

    def fields(self, known: catalogue.Module, module: dict, where: str) -> None:
        for key, declared in (("parameters", known.parameters), ("mapper", known.mapper)):
            values = module.get(key)
            if key == "mapper" and known.kind in ("router", "directive") and values is None:
                continue
            if values is None:
                values = {}
            if not isinstance(values, dict):
                self.fail(f"{where}.{key}", f"{key} must be an object", f"send {key} as {{...}}")
                continue
            for spec in declared:
                value = values.get(spec.name)
                needed = spec.required and (spec.when is None or values.get(spec.when[0]) == spec.when[1])
                if needed and value in (None, "", [], {}):
                    self.fail(
                        f"{where}.{key}.{spec.name}", f"{known.id} requires {spec.name}", f"map a value to {spec.name}"
                    )
                elif (
                    spec.enum
                    and isinstance(value, str)
                    and "{{" not in value
                    and value not in spec.enum
                    and not (value == "" and not needed)
                ):
                    self.fail(
                        f"{where}.{key}.{spec.name}",
                        f"{value!r} is not a value of {spec.name}",
                        f"use one of {', '.join(map(str, spec.enum))}",
                    )
            for binding in BINDINGS:
                if self.shareable and binding in values and key == "parameters":
                    self.fail(
                        f"{where}.parameters.{binding}",
                        f"parameters.{binding} is an account binding",
                        "leave it out: the user attaches it after import",
                    )

    def kind_rules(self, known: catalogue.Module, module: dict, where: str, dlq: bool) -> None:
        if known.kind == "router":
            if module.get("mapper") is not None:
                self.fail(f"{where}.mapper", "router mapper must be null", "set \"mapper\": null")
            routes = module.get("routes")
            if not isinstance(routes, list) or not routes:
                self.fail(f"{where}.routes", "router must have routes", "add at least one route")
            for number, route in enumerate(routes or []):
                if not isinstance(route, dict) or not isinstance(route.get("flow"), list) or not route["flow"]:
                    self.fail(
                        f"{where}.routes[{number}].flow",
                        "route flow must be non-empty",
                        "put at least one module in the route or remove it",
                    )
            if module.get("filter"):
                self.fail(
                    f"{where}.filter",
                    "router must not carry a filter",
                    "put the filter on the first module inside a route",
                )
        elif module.get("routes"):
            self.fail(f"{where}.routes", "only builtin:BasicRouter has routes", "use a router to branch")
        if known.kind == "aggregator":
            feeder = (module.get("parameters") or {}).get("feeder")
            if not isinstance(feeder, int):
                self.fail(
                    f"{where}.parameters.feeder",
                    "aggregator parameters.feeder must be a module id",
                    "name the feeder module's id",
                )
        if known.id == "builtin:Break" and not dlq:
            self.fail(
                f"{where}",
                "builtin:Break stores incomplete executions, which this scenario does not allow",
                "set metadata.scenario.dlq to true",
            )

    def filter(self, filter_, where: str, upstream: tuple, error_of: tuple) -> None:
        groups = filter_.get("conditions") if isinstance(filter_, dict) else None
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            self.fail(
                where,
                "a filter is {\"name\", \"conditions\": [[{\"a\", \"o\", \"b\"}]]}",
                "write conditions as OR groups of AND conditions",
            )
            return
        for g, group in enumerate(groups):
            for c, condition in enumerate(group):
                path = f"{where}.conditions[{g}][{c}]"
                operator = condition.get("o") if isinstance(condition, dict) else None
                if operator not in catalogue.FILTER_OPERATORS:
                    self.fail(
                        f"{path}.o",
                        f"unknown filter operator {operator!r}",
                        f"use one of {', '.join(sorted(catalogue.FILTER_OPERATORS))}",
                    )
                if isinstance(condition, dict):
                    self.iml({k: condition.get(k) for k in ("a", "b")}, path, upstream, error_of)

    def iml(self, value, where: str, upstream: tuple, error_of: tuple) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                self.iml(item, f"{where}.{key}", upstream, error_of)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.iml(item, f"{where}[{index}]", upstream, error_of)
        elif isinstance(value, str) and "{{" in value:
            refs, problems = lint(value)
            for problem, fix in problems:
                self.fail(where, problem, fix)
            self.uses.extend((where, ref, upstream, error_of) for ref in refs)

    def references(self) -> None:
        """Every ``{{N.…}}``: an existing module, one that ran before, an output it has."""
        for where, ref, upstream, error_of in self.uses:
            target = self.modules.get(ref.module_id)
            if target is None:
                self.fail(
                    where,
                    f"{{{{{ref.module_id}.…}}}} points at a module that does not exist",
                    "map a value from an existing module",
                )
                continue
            if ref.module_id not in upstream:
                self.fail(
                    where,
                    f"module {ref.module_id} has not run when this value is mapped",
                    "map only from modules earlier on the same route",
                )
                continue
            first = ref.path[0][1] if ref.path and ref.path[0][0] == "key" else None
            if first == ERROR_KEY:
                second = ref.path[1][1] if len(ref.path) > 1 else None
                if ref.module_id not in error_of:
                    self.fail(
                        where,
                        f"{{{{{ref.module_id}.error}}}} exists only on that module's error route",
                        "map the error on the module's error handler route",
                    )
                elif second not in catalogue.ERROR_OUTPUTS:
                    self.fail(
                        where,
                        f"error.{second} is not evidenced; only error.message is",
                        f"map {{{{{ref.module_id}.error.message}}}}",
                    )
                continue
            outputs = _outputs(target)
            if outputs is not None and first is not None and first not in outputs:
                self.fail(
                    where,
                    f"module {ref.module_id} ({target['module']}) has no output {first!r}",
                    f"map one of: {', '.join(outputs) or 'nothing'}",
                )


def _outputs(module: dict) -> tuple | None:
    """What a module outputs, or None when it depends on the data."""
    known = catalogue.find(module.get("module"))
    mapper = module.get("mapper") if isinstance(module.get("mapper"), dict) else {}
    if known is None:
        return None
    if known.kind == "variables":
        return tuple(item.get("name") for item in mapper.get("variables") or [] if isinstance(item, dict))
    if known.kind == "variable":
        return (mapper.get("name"),)
    return known.outputs
