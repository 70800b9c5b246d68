"""One scenario run: the blueprint's modules interpreted in order on one trigger bundle.

Every module is run by what the catalogue says it is (``catalogue.py``, ``actions.py``); a
module the catalogue does not know ends the run as ``unsupported`` (validation refuses such a
blueprint before it can run at all). The rules Make applies and the emulator follows:

* ``gateway:CustomWebHook`` as ``flow[0]``: its output is the webhook payload.
* A module's ``filter`` (OR of AND groups) is checked before it runs; when it fails, that route
  ends there (the other routes of a router still run, in order).
* ``builtin:BasicRouter`` (last module of its route) runs each route on the same bundles.
* ``builtin:BasicFeeder`` ... ``builtin:BasicAggregator`` (its ``feeder``), in one route: the
  modules between run once per item, the aggregator outputs ``{"array": [...]}``.
* Data Store modules read and write the emulated store (``datastore``); a network module
  (``kind`` publish) checks its input, then "publishes" once per idempotency key: a key the
  network already took is not posted again (``republish_blocked`` counts those runs, which real
  Make would have posted twice).
* A module error goes to the module's ``onerror`` route, where ``{{N.error.message}}`` is its
  message. Directives end that route: ``builtin:Break`` re-runs the failed module ``count``
  times, ``interval`` minutes apart, with the values computed before (timestamps included),
  then stores the run as incomplete (needs ``metadata.scenario.dlq``); ``Resume``, ``Ignore``,
  ``Commit``, ``Rollback``. A route without a directive ends like Ignore. An error with no
  ``onerror`` ends the run in ``error`` and the runner deactivates the scenario, as Make does
  for an instant trigger.

Each run has its own clock: it starts at real time plus the knob ``clock_offset_s`` and moves
on by the simulated length of each Break pause (a pause lasts ``interval`` x
``break_interval_scale`` real seconds), so a test can retry a callback "hours later".
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from . import actions, catalogue
from .actions import ModuleError
from .blueprints import TRIGGER_MODULE
from .iml import IMLError, render_deep, to_text
from .state import utc_now_iso


class _RunEnd(Exception):
    """Ends the run with ``status``; ``error`` is the module error that caused it, if any."""

    def __init__(self, status: str, error: dict | None):
        super().__init__(status)
        self.status, self.error = status, error


def _unsupported(message: str) -> _RunEnd:
    return _RunEnd("unsupported", {"type": "EmulatorLimitation", "code": "UNSUPPORTED", "message": message})


class FlowRun:
    def __init__(self, emulator, http, scenario_id, team_id, execution_id, payload, cancel):
        self._emulator, self._http, self._cancel = emulator, http, cancel
        self._scenario_id, self._team_id, self._execution_id = scenario_id, team_id, execution_id
        self._payload = payload
        self._bundles: dict[int, object] = {}
        self._attempts: dict[str | None, int] = {}  # requests sent per webhook id
        self._dlq = False
        self._started = time.monotonic()
        self._origin = datetime.now(timezone.utc) + timedelta(seconds=emulator.knobs.clock_offset_s)
        self._skipped = 0.0  # simulated seconds added by Break pauses
        self.dropped_callbacks = 0
        self.republish_blocked = 0

    def now(self) -> datetime:
        """The run's clock (see the module's docstring)."""
        return self._origin + timedelta(seconds=time.monotonic() - self._started + self._skipped)

    def run(self, blueprint: dict) -> tuple[str, dict | None]:
        """Run to the end; returns (status, error) with status success, incomplete, error,
        unsupported or cancelled."""
        trigger, *rest = blueprint["flow"]
        self._dlq = ((blueprint.get("metadata") or {}).get("scenario") or {}).get("dlq") is True
        try:
            if trigger.get("module") != TRIGGER_MODULE:
                raise _unsupported(f"flow[0] is {trigger.get('module')}, not {TRIGGER_MODULE}")
            self._bundles[trigger["id"]] = self._payload
            self._route(rest)
        except _RunEnd as end:
            return end.status, end.error
        return "success", None

    def _route(self, modules: list) -> tuple | None:
        """Run a route; a directive's signal ("stop" | "resume" | "break", arg) ends it."""
        position = 0
        while position < len(modules):
            module = modules[position]
            known = catalogue.find(module.get("module", ""))
            if known is None:
                raise _unsupported(f"module {module.get('module')} is not in the catalogue")
            if module.get("filter") and not self._passes(module["filter"]):
                return None
            last = position == len(modules) - 1
            if known.kind == "router":
                if not last:
                    raise _unsupported("a router must be the last module of its route")
                for route in module.get("routes") or []:
                    self._route(route.get("flow") or [])
                return None
            if known.kind == "directive":
                if not last:
                    raise _unsupported(f"{known.id} must be the last module of its route")
                return self._directive(module)
            if known.kind == "feeder":
                position = self._iterate(modules, position)
                if position is None:
                    return None
                continue
            if self._run_with_handler(module, known):
                return ("stop", None)
            position += 1
        return None

    def _passes(self, filter_: dict) -> bool:
        """A Make filter: any group passes when all of its conditions hold."""
        return any(all(self._holds(condition) for condition in group) for group in filter_.get("conditions") or [])

    def _holds(self, condition: dict) -> bool:
        operator = condition.get("o")
        a, b = self._render(condition.get("a")), self._render(condition.get("b"))
        exists = a not in (None, "", [], {})
        text_a, text_b = to_text(a), to_text(b)
        tests = {
            "exist": lambda: exists,
            "notexist": lambda: not exists,
            "text:equal": lambda: text_a == text_b,
            "text:notequal": lambda: text_a != text_b,
            "text:equal:ci": lambda: text_a.lower() == text_b.lower(),
            "text:contain": lambda: text_b in text_a,
            "text:notcontain": lambda: text_b not in text_a,
            "text:startswith": lambda: text_a.startswith(text_b),
            "text:endswith": lambda: text_a.endswith(text_b),
            "boolean:equal": lambda: _boolean(a) == _boolean(b),
            "number:equal": lambda: _number(a) == _number(b),
            "number:notequal": lambda: _number(a) != _number(b),
            "number:greater": lambda: _number(a) > _number(b),
            "number:less": lambda: _number(a) < _number(b),
        }
        if operator not in tests:
            raise _unsupported(f"filter operator {operator!r} is not emulated")
        try:
            return tests[operator]()
        except TypeError:  # a number operator on something that is not a number
            return False

    def _iterate(self, modules: list, position: int) -> int | None:
        """Feeder to its aggregator; returns the position after the aggregator (None: the
        feeder gave no item, so nothing after it runs, as in Make)."""
        feeder = modules[position]
        end = next(
            (
                i
                for i in range(position + 1, len(modules))
                if (modules[i].get("parameters") or {}).get("feeder") == feeder["id"]
            ),
            None,
        )
        if end is None:
            raise _unsupported(f"feeder {feeder['id']} has no aggregator on its route")
        items = self._render((feeder.get("mapper") or {}).get("array"))
        items = items if isinstance(items, list) else [] if items in (None, "") else [items]
        collected = []
        for index, item in enumerate(items, start=1):
            self._bundles[feeder["id"]] = (
                {**item, "__IMTINDEX__": index} if isinstance(item, dict) else {"value": item, "__IMTINDEX__": index}
            )
            for module in modules[position + 1 : end]:
                if self._run_with_handler(module, catalogue.find(module["module"])):
                    return None
            collected.append(self._render(modules[end].get("mapper") or {}))
        if not collected:
            return None
        self._bundles[modules[end]["id"]] = {"array": collected, "__IMTAGGLENGTH__": len(collected)}
        return end + 1

    def _run_with_handler(self, module: dict, known) -> bool:
        """Run one module with its error handler; True when the route must stop."""
        try:
            self._bundles[module["id"]] = self._execute(module, known)
            return False
        except ModuleError as failure:
            error = failure.bundle
        if not module.get("onerror"):
            raise _RunEnd("error", error)
        self._bundles[module["id"]] = {"error": {"message": error["message"], "type": error["type"]}}
        signal = self._route(module["onerror"])
        if signal is None or signal[0] == "stop":
            return True
        if signal[0] == "resume":
            self._bundles[module["id"]] = signal[1]
            return False
        return self._retry(module, known, signal[1], error)

    def _directive(self, module: dict) -> tuple:
        name, mapper = module["module"], module.get("mapper") or {}
        if name in ("builtin:Ignore", "builtin:Commit"):
            return ("stop", None)
        if name == "builtin:Resume":
            return ("resume", self._render(mapper))
        if name == "builtin:Break":
            return ("break", mapper)
        raise _RunEnd(
            "error", {"type": "Rollback", "code": "ROLLBACK", "message": "the error handler rolled the run back"}
        )

    def _retry(self, module: dict, known, mapper: dict, error: dict) -> bool:
        """``builtin:Break``: re-run the failed module with the values computed before, after
        each pause, then store the run as incomplete."""
        if not self._dlq:
            raise _RunEnd(
                "error",
                {**error, "message": error["message"] + " (Break needs metadata.scenario.dlq=true to store the run)"},
            )
        if mapper.get("retry") is not True:
            raise _RunEnd("incomplete", error)
        try:
            count, interval = int(mapper.get("count", 3)), float(mapper.get("interval", 15))
        except (TypeError, ValueError):
            raise _unsupported("builtin:Break count and interval must be numbers") from None
        for _ in range(count):
            pause = interval * self._emulator.knobs.break_interval_scale
            if self._cancel.wait(pause):
                raise _RunEnd("cancelled", None)
            self._skipped += max(interval * 60 - pause, 0)
            try:
                self._bundles[module["id"]] = self._execute(module, known)
                return False
            except ModuleError as failure:
                error = failure.bundle
        raise _RunEnd("incomplete", error)

    def _execute(self, module: dict, known):
        kind, mapper = known.kind, module.get("mapper") or {}
        if kind == "publish":
            return self._publish(module, known)
        rendered = self._render(mapper)
        if kind in ("variables", "variable"):
            return (
                actions.set_variables(rendered)
                if kind == "variables"
                else {rendered.get("name"): rendered.get("value")}
            )
        if kind == "to_json":
            return actions.to_json(rendered)
        if kind == "http":
            if self._emulator.knobs.drop_callbacks:
                self.dropped_callbacks += 1
                return {}
            return actions.http_request(self._http, rendered, self._log_callback)
        if kind == "download":
            return actions.download(self._http, rendered)
        if kind.startswith("datastore"):
            with self._emulator.state.change() as data:
                actions.check_data_store(data, (module.get("parameters") or {}).get("datastore"))
                if kind == "datastore_add":
                    return actions.datastore_add(data, rendered)
                found = actions.datastore_get(data, rendered)
            return {"exist": bool(found)} if kind == "datastore_exist" else found
        raise _unsupported(f"module {module['module']} is not emulated")

    def _render(self, value):
        try:
            return render_deep(value, self._bundles, self.now())
        except IMLError as exc:
            raise ModuleError("DataError", str(exc)) from exc

    def _publish(self, module: dict, known) -> dict:
        rendered = self._render(module.get("mapper") or {})
        connection_id = (module.get("parameters") or {}).get("__IMTCONN__")
        with self._emulator.state.read() as data:
            connection = self._emulator.live_connections(data).get(connection_id)
        if connection is not None and connection["teamId"] != self._team_id:
            connection = None
        actions.check_input(known, rendered, connection)
        key = self._payload.get("idempotency_key")
        if not isinstance(key, str) or not key:
            raise ModuleError("DataError", "the payload has no idempotency_key")
        emulator = self._emulator
        with emulator.state.change() as data:
            if self._cancel.is_set():
                raise _RunEnd("cancelled", None)
            taken = data["network"].get(key)
            if taken:
                self.republish_blocked += 1
                return {"id": taken["id"]}
            knobs = emulator.knobs
            if knobs.outcome == "failed" or (knobs.failure_rate and emulator.random() < knobs.failure_rate):
                raise ModuleError(
                    "RuntimeError",
                    knobs.failure_message or f"the network refused the post on {known.id} (emulated failure)",
                    code="EMULATED_FAILURE",
                )
            external_id = actions.new_post_id(known.id, rendered, emulator.random_digits)
            post = actions.post_record(
                known.id,
                external_id,
                id=emulator.state.allocate_id(data, "post"),
                idempotency_key=key,
                delivery_id=self._payload.get("delivery_id"),
                scenario_id=self._scenario_id,
                execution_id=self._execution_id,
                connection_id=connection_id,
                input=rendered,
            )
            data["network"][key] = {"id": external_id, "url": post["external_url"]}
            data["posts"].append(post)
        return {"id": external_id}

    def _log_callback(self, url, headers, body, status_code, error):
        """Record one request sent, with what the CMS answered (the inspection log)."""
        try:
            sent_status = json.loads(body).get("status") if body else None
        except (ValueError, AttributeError):
            sent_status = None
        webhook_id = next((value for name, value in headers.items() if name.lower() == "webhook-id"), None)
        with self._emulator.state.change() as data:
            if self._cancel.is_set():
                return
            attempt = self._attempts[webhook_id] = self._attempts.get(webhook_id, 0) + 1
            data["callbacks"].append(
                {
                    "execution_id": self._execution_id,
                    "scenario_id": self._scenario_id,
                    "idempotency_key": self._payload.get("idempotency_key"),
                    "delivery_id": self._payload.get("delivery_id"),
                    "url": url,
                    "webhook_id": webhook_id,
                    "status": sent_status,
                    "attempt": attempt,
                    "status_code": status_code,
                    "error": error,
                    "body": body.decode("utf-8") if body else None,
                    "sent_at": utc_now_iso(),
                    "run_clock": self.now().isoformat(timespec="seconds"),
                }
            )


def _boolean(value) -> bool:
    return value is True or to_text(value).strip().lower() == "true"


def _number(value) -> float:
    if isinstance(value, bool) or value in (None, ""):
        raise TypeError(value)
    return float(value)
