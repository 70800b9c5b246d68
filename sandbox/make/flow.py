"""One scenario run: the blueprint's modules interpreted in order on one trigger bundle.

Modules the runner knows (anything else ends the run as ``unsupported``, never guessed):

* ``gateway:CustomWebHook`` as ``flow[0]``: its output is the webhook payload.
* A **platform module**, i.e. any module whose ``parameters`` carry ``__IMTCONN__``: it
  "publishes" and records the post under the payload's ``idempotency_key`` (the Data Store
  record). A key already published is not posted again: the stored post is returned and the
  run's ``republish_blocked`` counter goes up, because a real network *would* have posted it
  twice (a blueprint whose lookup and filter work never reaches that point). Output
  ``{"id", "url"}`` (reference it as ``{{N.id}}`` / ``{{N.url}}``). A failed post (knobs
  ``outcome`` / ``failure_rate`` / ``failure_message``) is a module error, which the
  module's ``onerror`` route handles; there ``{{N.error.code}}``, ``{{N.error.message}}``
  and ``{{N.error.type}}`` describe it.
* ``datastore:GetRecord`` returns the record stored for its rendered ``mapper.key`` with the
  fields of our Data Store structure, ``{"external_id", "external_url"}``, or ``{}``; other
  ``datastore:*`` modules are accepted and do nothing, the platform module having already
  written the record.
* ``builtin:BasicRouter`` (last module of its route): runs each of its ``routes[].flow`` in
  order on the same bundle.
* A module's ``filter`` (``{"name", "conditions": [[{"a", "o", "b"?}, ...], ...]}``: OR of
  AND groups, operators ``exist``, ``notexist``, ``text:equal``, ``text:notequal``) is
  checked before the module runs; when it does not pass, that route ends there (the other
  routes of a router still run).
* ``util:SetVariables`` / ``util:SetVariable``: output ``{name: rendered value}``.
* ``json:TransformToJSON``: output ``{"json": <the rendered mapper.object as JSON text>}``
  (a string comes out quoted and escaped, so it can be spliced into a JSON body).
* ``http:MakeRequest`` with ``inputMethod: jsonString``: sends the rendered body bytes as
  ``application/json``; a non-2xx answer or a connection error is a module error.
* Directives at the end of an ``onerror`` route: ``builtin:Break`` (retry the failed module
  ``count`` times, ``interval`` minutes apart, then store the run as incomplete; it needs
  ``metadata.scenario.dlq``), ``builtin:Resume``, ``builtin:Ignore``, ``builtin:Commit``, and
  ``builtin:Rollback`` (an error). A route without a directive ends like Ignore.

A module error with no ``onerror`` is unhandled: the run ends in ``error`` and the runner
deactivates the scenario, as Make does for an instant trigger.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from .blueprints import ROUTER_MODULE, TRIGGER_MODULE
from .iml import IMLError, render_deep, to_text
from .state import utc_now_iso

_POST_URLS = {
    "instagram-business": "https://www.instagram.com/p/{id}/",
    "facebook-pages": "https://www.facebook.com/{id}",
    "linkedin": "https://www.linkedin.com/feed/update/urn:li:share:{id}/",
    "youtube": "https://www.youtube.com/watch?v={id}",
    "twitter": "https://x.com/i/status/{id}",
    "tiktok": "https://www.tiktok.com/@sandbox/video/{id}",
}
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class ModuleError(Exception):
    """A module failed the way a Make module fails: it has a type, a code and a message."""

    def __init__(self, kind: str, message: str, code: str | None = None):
        super().__init__(message)
        self.bundle = {"type": kind, "code": code or kind, "message": message}


class _RunEnd(Exception):
    """Ends the run with ``status``; ``error`` is the module error that caused it, if any."""

    def __init__(self, status: str, error: dict | None):
        super().__init__(status)
        self.status, self.error = status, error


def _unsupported(message: str) -> _RunEnd:
    return _RunEnd("unsupported", {"type": "EmulatorLimitation", "code": "UNSUPPORTED",
                                   "message": message})


class FlowRun:
    def __init__(self, emulator, http, scenario_id, team_id, execution_id, payload, cancel):
        self._emulator, self._http, self._cancel = emulator, http, cancel
        self._scenario_id, self._team_id, self._execution_id = scenario_id, team_id, execution_id
        self._payload = payload
        self._bundles: dict[int, object] = {}
        self._attempts: dict[int, int] = {}
        self._dlq = False
        self.dropped_callbacks = 0
        self.republish_blocked = 0

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
        for position, module in enumerate(modules):
            name = module.get("module", "")
            if module.get("filter") and not self._passes(module["filter"]):
                return None
            if name == ROUTER_MODULE:
                if position != len(modules) - 1:
                    raise _unsupported(f"{name} must be the last module of its route")
                for route in module.get("routes") or []:
                    self._route(route.get("flow") or [])
                return None
            if name.startswith("builtin:"):
                if position != len(modules) - 1:
                    raise _unsupported(f"{name} must be the last module of its route")
                return self._directive(module)
            if module.get("routes"):
                raise _unsupported(f"module {module['id']}: only {ROUTER_MODULE} has routes")
            if self._run_with_handler(module):
                return ("stop", None)
        return None

    def _passes(self, filter_: dict) -> bool:
        """A Make filter: any group passes when all of its conditions hold."""
        groups = filter_.get("conditions")
        if not isinstance(groups, list) or not all(isinstance(group, list) for group in groups):
            raise _unsupported("filter.conditions must be a list of lists of conditions")
        return any(all(self._holds(condition) for condition in group) for group in groups)

    def _holds(self, condition: dict) -> bool:
        operator = condition.get("o")
        value = self._render(condition.get("a"))
        exists = value not in (None, "", [], {})
        if operator == "exist":
            return exists
        if operator == "notexist":
            return not exists
        if operator in ("text:equal", "text:notequal"):
            same = to_text(value) == to_text(self._render(condition.get("b")))
            return same if operator == "text:equal" else not same
        raise _unsupported(f"filter operator {operator!r} is not emulated")

    def _run_with_handler(self, module: dict) -> bool:
        """Run one module with its error handler; True when the route must stop."""
        try:
            self._bundles[module["id"]] = self._execute(module)
            return False
        except ModuleError as failure:
            error = failure.bundle
        if not module.get("onerror"):
            raise _RunEnd("error", error)
        self._bundles[module["id"]] = {"error": error}
        signal = self._route(module["onerror"])
        if signal is None or signal[0] == "stop":
            return True
        if signal[0] == "resume":
            self._bundles[module["id"]] = signal[1]
            return False
        return self._retry(module, signal[1], error)

    def _directive(self, module: dict) -> tuple:
        name, mapper = module["module"], module.get("mapper") or {}
        if name in ("builtin:Ignore", "builtin:Commit"):
            return ("stop", None)
        if name == "builtin:Resume":
            return ("resume", self._render(mapper))
        if name == "builtin:Break":
            return ("break", mapper)
        if name == "builtin:Rollback":
            raise _RunEnd("error", {"type": "Rollback", "code": "ROLLBACK",
                                    "message": "the error handler rolled the run back"})
        raise _unsupported(f"directive {name} is not emulated")

    def _retry(self, module: dict, mapper: dict, error: dict) -> bool:
        """``builtin:Break``: retry the failed module, then store the run as incomplete."""
        if not self._dlq:
            raise _RunEnd("error", {**error, "message": error["message"] + " (Break needs "
                                    "metadata.scenario.dlq=true to store the run)"})
        if mapper.get("retry") is not True:
            raise _RunEnd("incomplete", error)
        try:
            count, interval = int(mapper.get("count", 3)), float(mapper.get("interval", 15))
        except (TypeError, ValueError):
            raise _unsupported("builtin:Break count and interval must be numbers") from None
        for _ in range(count):
            if self._cancel.wait(interval * self._emulator.knobs.break_interval_scale):
                raise _RunEnd("cancelled", None)
            try:
                self._bundles[module["id"]] = self._execute(module)
                return False
            except ModuleError as failure:
                error = failure.bundle
        raise _RunEnd("incomplete", error)

    def _execute(self, module: dict):
        name = module["module"]
        parameters = module.get("parameters") or {}
        if name == "util:SetVariables":
            now = datetime.now(timezone.utc)  # one "now" per module, as one operation sees it
            variables = (module.get("mapper") or {}).get("variables") or []
            return {item["name"]: self._render(item.get("value"), now) for item in variables}
        if name == "util:SetVariable":
            mapper = module.get("mapper") or {}
            return {mapper.get("name"): self._render(mapper.get("value"))}
        if name == "http:MakeRequest":
            return self._http_request(module)
        if name == "json:TransformToJSON":
            # Make's "Transform to JSON": any value as JSON text, a string quoted and escaped.
            value = self._render((module.get("mapper") or {}).get("object"))
            return {"json": json.dumps(value, ensure_ascii=False, separators=(",", ":"))}
        if name.startswith("datastore:"):
            if name != "datastore:GetRecord":
                return {}
            key = to_text(self._render((module.get("mapper") or {}).get("key")))
            with self._emulator.state.read() as data:
                stored = data["datastore"].get(key)
            return {"external_id": stored["id"], "external_url": stored["url"]} if stored else {}
        if "__IMTCONN__" in parameters:
            return self._publish(module)
        raise _unsupported(f"module {name} is not emulated")

    def _render(self, value, now=None):
        try:
            return render_deep(value, self._bundles, now)
        except IMLError as exc:
            raise ModuleError("DataError", str(exc), code="IML") from exc

    def _publish(self, module: dict) -> dict:
        connection_id = module["parameters"]["__IMTCONN__"]
        connection = self._emulator.connections.get(connection_id)
        if connection is None or connection["teamId"] != self._team_id:
            raise ModuleError("InvalidConfigurationError", f"connection {connection_id} not found")
        published_input = self._render(module.get("mapper") or {})
        key = self._payload.get("idempotency_key")
        if not isinstance(key, str) or not key:
            raise ModuleError("DataError", "the payload has no idempotency_key", code="NO_KEY")
        app = module["module"].split(":", 1)[0]
        emulator = self._emulator
        with emulator.state.change() as data:
            if self._cancel.is_set():
                raise _RunEnd("cancelled", None)
            stored = data["datastore"].get(key)
            if stored:
                self.republish_blocked += 1
                return {"id": stored["id"], "url": stored["url"]}
            knobs = emulator.knobs
            if knobs.outcome == "failed" or (knobs.failure_rate
                                             and emulator.random() < knobs.failure_rate):
                raise ModuleError("RuntimeError", knobs.failure_message or f"the network refused "
                                  f"the post on {app} (emulated failure)", code="EMULATED_FAILURE")
            external_id = emulator.random_digits(17)
            url = _POST_URLS.get(app, f"https://{app}.example.invalid/posts/{{id}}").format(
                id=external_id)
            data["datastore"][key] = {"id": external_id, "url": url}
            data["posts"].append({
                "id": emulator.state.allocate_id(data, "post"), "idempotency_key": key,
                "delivery_id": self._payload.get("delivery_id"), "scenario_id": self._scenario_id,
                "execution_id": self._execution_id, "module": module["module"],
                "connection_id": connection_id, "external_id": external_id, "external_url": url,
                "input": published_input, "published_at": utc_now_iso()})
        return {"id": external_id, "url": url}

    def _http_request(self, module: dict) -> dict:
        mapper = module.get("mapper") or {}
        method = str(mapper.get("method") or "get").upper()
        if method not in _HTTP_METHODS:
            raise ModuleError("DataError", f"method {method} is not supported")
        url = to_text(self._render(mapper.get("url")))
        if not url.startswith(("http://", "https://")):
            raise ModuleError("DataError", f"url {url!r} is not an http(s) URL")
        headers = {"User-Agent": "Make/production"}
        body = None
        if "jsonStringBodyContent" in mapper:
            if mapper.get("inputMethod") != "jsonString" or mapper.get("contentType") != "json":
                raise _unsupported("http:MakeRequest bodies are emulated only with "
                                   "contentType json and inputMethod jsonString")
            body = to_text(self._render(mapper["jsonStringBodyContent"])).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for header in mapper.get("headers") or []:
            headers[to_text(self._render(header["name"]))] = to_text(self._render(header["value"]))
        params = [(to_text(self._render(item["name"])), to_text(self._render(item["value"])))
                  for item in mapper.get("queryParameters") or []]
        if self._emulator.knobs.drop_callbacks:
            self.dropped_callbacks += 1
            return {}
        self._attempts[module["id"]] = attempt = self._attempts.get(module["id"], 0) + 1
        try:
            response = self._http.request(method, url, params=params, headers=headers,
                                          content=body)
        except Exception as exc:  # any transport failure is Make's ConnectionError
            self._log_callback(url, headers, body, attempt, None, f"{type(exc).__name__}: {exc}")
            raise ModuleError("ConnectionError", f"{type(exc).__name__}: {exc}") from exc
        self._log_callback(url, headers, body, attempt, response.status_code, None)
        if not 200 <= response.status_code < 300:
            raise ModuleError("RuntimeError", f"[{response.status_code}] {response.text[:200]}",
                              code=str(response.status_code))
        try:
            parsed = response.json() if mapper.get("parseResponse") else response.text
        except ValueError:
            parsed = response.text
        return {"statusCode": response.status_code, "data": parsed,
                "headers": [{"name": k, "value": v} for k, v in response.headers.items()]}

    def _log_callback(self, url, headers, body, attempt, status_code, error):
        """Record one request sent, with what the CMS answered (the inspection log)."""
        try:
            sent_status = json.loads(body).get("status") if body else None
        except (ValueError, AttributeError):
            sent_status = None
        webhook_id = next((value for name, value in headers.items()
                           if name.lower() == "webhook-id"), None)
        with self._emulator.state.change() as data:
            if self._cancel.is_set():
                return
            data["callbacks"].append({
                "execution_id": self._execution_id, "scenario_id": self._scenario_id,
                "idempotency_key": self._payload.get("idempotency_key"),
                "delivery_id": self._payload.get("delivery_id"), "url": url,
                "webhook_id": webhook_id, "status": sent_status,
                "attempt": attempt, "status_code": status_code, "error": error,
                "body": body.decode("utf-8") if body else None, "sent_at": utc_now_iso()})
