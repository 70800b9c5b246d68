"""Does a template scenario honour the CMS's contract? (docs/make-operations.md, "Templates")

An account may name a template scenario that its owner built in Make's editor (the only way
for networks with no Make module the project can vouch for). The CMS clones it for each
campaign, so before using it its blueprint (`GET /scenarios/{id}/blueprint`) must:

- `trigger`: start with a custom webhook (`gateway:CustomWebHook`): its bundle is the payload;
- `dedupe_*`: look `{{1.idempotency_key}}` up in a Data Store (`datastore:GetRecord`) before any
  network module, and reach a network module only when the key was not found there;
- `callback_*`: call back `{{1.callback_url}}` (`http:MakeRequest`) for every outcome: status
  `published` on the success path, `failed` in an error handler of each network module,
  `dry_run_ok` on the dry-run route;
- `unsigned`, `wrong_secret`: sign every callback (Standard Webhooks headers, HMAC-SHA256 with
  the installation's secret, docs/external-apis.md §1.6);
- `stop_on_http_error`: set `stopOnHttpError: true` on every callback, so a refused callback is an
  error its `Break` handler retries rather than a silent success;
- `unknown_fields`: map only fields the payload has (`PAYLOAD`, docs/external-apis.md §4.1);
- `dry_run_unguarded`: keep the network modules off the route a dry run takes.

`check()` returns `Problem`s (a rule, the blueprint path, parameters), plain data that can be
stored as JSON; `describe()` words one, with its fix, in the user's language when shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

from flask_babel import lazy_gettext as _l

from app.network_options import OPTIONS

TRIGGER = "gateway:CustomWebHook"
LOOKUP = "datastore:GetRecord"
# A network module acts on an account: it is bound to a connection, or it is an HTTP request
# that is not a callback (a third-party API called directly). Fetching the media is not one.
SAFE_HTTP = {"http:DownloadFile"}
STATUSES = ("published", "failed", "dry_run_ok")

# The payload the CMS posts to the hook (app/publishing/payload.py, docs/external-apis.md §4.1,
# plus "dry_run" on a dry run): a dict is an object's fields, a list an array of such objects.
PAYLOAD = {
    "delivery_id": None,
    "idempotency_key": None,
    "attempt": None,
    "fingerprint": None,
    "campaign": {"id": None, "name": None},
    "object": {"id": None, "title": None},
    "platform": None,
    "account_identifier": None,
    "text": None,
    "link": None,
    "media": [
        {
            "url": None,
            "mime": None,
            "size": None,
            "width": None,
            "height": None,
            "duration_s": None,
            "alt_text": None,
            "sharepoint": {"drive_id": None, "item_id": None, "etag": None},
        }
    ],
    "callback_url": None,
    "sent_at": None,
    "dry_run": None,
    # The network's options, every one of every network (app/network_options.py).
    "options": {option.name: None for options in OPTIONS.values() for option in options},
}

MESSAGES = {
    "trigger": (
        _l("The scenario does not start with a custom webhook (its first module is %(module)s)."),
        _l(
            "Make its first module “Webhooks → Custom webhook” (gateway:CustomWebHook): the CMS "
            "sends each post to that webhook's address."
        ),
    ),
    "network_missing": (
        _l("No module publishes to a network."),
        _l("Add the network's module, connected to the account, after the Data Store lookup."),
    ),
    "dedupe_missing": (
        _l("No Data Store lookup of {{1.idempotency_key}}: a post sent twice would be published twice."),
        _l(
            "Add “Data store → Get a record” with the key {{1.idempotency_key}} right after the "
            "webhook, in the CMS's Data Store."
        ),
    ),
    "dedupe_after": (
        _l("These modules run before the Data Store lookup: %(modules)s."),
        _l("Move the lookup of {{1.idempotency_key}} before every network module."),
    ),
    "dedupe_unused": (
        _l("These modules run even when the key is already in the Data Store: %(modules)s."),
        _l(
            "Filter the route to them: continue only when the lookup's external_id does not "
            "exist, and call back with the stored result otherwise."
        ),
    ),
    "callback_published": (
        _l("No signed callback reports the post published by these modules: %(modules)s."),
        _l(
            "After the network module, store its result in the Data Store and add “HTTP → Make a "
            "request” to {{1.callback_url}} with the status “published”, signed like the starter "
            "blueprints."
        ),
    ),
    "callback_failed": (
        _l("These network modules have no error handler that reports the failure: %(modules)s."),
        _l(
            "Give each network module an error handler with a signed callback whose status is "
            "“failed”, ended by “Ignore”."
        ),
    ),
    "callback_dry_run": (
        _l("No dry-run route: a test from the CMS would never be answered."),
        _l(
            "Add a route filtered on {{1.dry_run}} equal to true that publishes nothing and sends "
            "the signed callback with the status “dry_run_ok”."
        ),
    ),
    "dry_run_unguarded": (
        _l("These modules would also run during a dry run: %(modules)s."),
        _l("Filter the route to the network modules on {{1.dry_run}} not being true."),
    ),
    "unsigned": (
        _l("The callback in module %(module)s is not signed."),
        _l(
            "Send the headers webhook-id, webhook-timestamp and webhook-signature "
            "(v1, then sha256 of id.timestamp.body in base64 with the secret as key), like the "
            "starter blueprints."
        ),
    ),
    "wrong_secret": (
        _l("The callback in module %(module)s is signed with another secret than this installation's."),
        _l(
            "Use this installation's callback secret as the signature's key (flask make "
            "rerender-scenarios swaps it in templates after a rotation)."
        ),
    ),
    "stop_on_http_error": (
        _l("The callback in module %(module)s does not stop on an HTTP error: a refused callback would be lost."),
        _l(
            "Set “Evaluate all states as errors” (stopOnHttpError: true) on that module and give "
            "it a Break error handler."
        ),
    ),
    "unknown_fields": (
        _l("It maps fields the CMS does not send: %(fields)s."),
        _l("Map only the payload's fields: %(known)s."),
    ),
}


@dataclass(frozen=True)
class Problem:
    rule: str
    path: str = ""
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def describe(problem: Problem | dict) -> tuple[str, str]:
    """(what is wrong, how to fix it) in the current locale. Make's own validation errors
    (`rule == "make"`) carry their English words in `params`."""
    if isinstance(problem, dict):
        problem = Problem(**problem)
    if problem.rule not in MESSAGES:
        return problem.params.get("problem", problem.rule), problem.params.get("fix", "")
    text, fix = MESSAGES[problem.rule]
    return str(text) % problem.params, str(fix) % problem.params


def from_make_errors(errors: Iterable[dict]) -> list[Problem]:
    """Make's validation answer (`{"path", "problem", "fix"}`) as problems to show alike."""
    return [
        Problem("make", error.get("path", ""), {"problem": error.get("problem", ""), "fix": error.get("fix", "")})
        for error in errors
    ]


def check(blueprint: dict, *, secrets: Sequence[str] = ()) -> list[Problem]:
    """Every rule the blueprint breaks (empty when it honours the contract). With `secrets`,
    callbacks must be signed with one of them."""
    flow = blueprint.get("flow") if isinstance(blueprint, dict) else None
    if not isinstance(flow, list) or not flow or not isinstance(flow[0], dict):
        return [Problem("trigger", "flow[0]", {"module": "—"})]
    trigger = flow[0]
    trigger_id = trigger.get("id")
    nodes = list(_nodes(flow[1:], "flow", start=1, before=(trigger,), handler_of=None))
    problems = []
    if trigger.get("module") != TRIGGER:
        problems.append(Problem("trigger", "flow[0]", {"module": trigger.get("module") or "—"}))
    callbacks = [n for n in nodes if _is_callback(n.module, trigger_id)]
    network = [n for n in nodes if _is_network(n.module) and n not in callbacks]
    if not network:
        problems.append(Problem("network_missing"))
    problems += _dedupe(nodes, network, trigger_id)
    problems += _callbacks(nodes, network, callbacks, trigger_id, secrets)
    problems += _unknown_fields(blueprint, trigger_id)
    return problems


# -- the flow as paths ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Node:
    module: dict
    path: str
    before: tuple  # the modules run before it on its path (trigger included)
    handler_of: dict | None  # the module whose error route holds it, if any

    @property
    def filters(self) -> list[dict]:
        """The filters a bundle passes to reach this module (its own included)."""
        return [m["filter"] for m in (*self.before, self.module) if isinstance(m.get("filter"), dict)]

    @property
    def label(self) -> str:
        return f"{self.module.get('id')} ({self.module.get('module')})"


def _nodes(flow: list, prefix: str, *, start: int = 0, before: tuple, handler_of):
    for index, module in enumerate(flow):
        if not isinstance(module, dict):
            continue
        path = f"{prefix}[{index + start}]"
        earlier = before + tuple(m for m in flow[:index] if isinstance(m, dict))
        yield _Node(module, path, earlier, handler_of)
        for position, route in enumerate(module.get("routes") or []):
            if isinstance(route, dict) and isinstance(route.get("flow"), list):
                yield from _nodes(
                    route["flow"], f"{path}.routes[{position}].flow", before=earlier + (module,), handler_of=handler_of
                )
        if isinstance(module.get("onerror"), list):
            yield from _nodes(module["onerror"], f"{path}.onerror", before=earlier + (module,), handler_of=module)


def _app(module: dict) -> str:
    return str(module.get("module") or "").split(":", 1)[0]


def _is_network(module: dict) -> bool:
    if _app(module) == "http":
        return module.get("module") not in SAFE_HTTP
    parameters = module.get("parameters") if isinstance(module.get("parameters"), dict) else {}
    return (
        "__IMTCONN__" in parameters
        or "account" in parameters
        or any(
            str(p.get("type", "")).startswith("account:")
            for p in ((module.get("metadata") or {}).get("parameters") or [])
            if isinstance(p, dict)
        )
    )


def _is_callback(module: dict, trigger_id) -> bool:
    mapper = module.get("mapper") if isinstance(module.get("mapper"), dict) else {}
    return _app(module) == "http" and f"{trigger_id}.callback_url" in str(mapper.get("url", ""))


# -- rules ------------------------------------------------------------------------------------
def _dedupe(nodes, network, trigger_id) -> list[Problem]:
    lookups = [
        n.module
        for n in nodes
        if n.module.get("module") == LOOKUP
        and f"{trigger_id}.idempotency_key" in json.dumps(n.module.get("mapper") or {})
    ]
    if not lookups:
        return [Problem("dedupe_missing")] if network else []
    after = [n for n in network if not any(m in n.before for m in lookups)]
    unused = [
        n
        for n in network
        if n not in after and not any(_mentions(n.filters, f"{m.get('id')}.") for m in lookups if m in n.before)
    ]
    return ([Problem("dedupe_after", after[0].path, {"modules": _labels(after)})] if after else []) + (
        [Problem("dedupe_unused", unused[0].path, {"modules": _labels(unused)})] if unused else []
    )


def _callbacks(nodes, network, callbacks, trigger_id, secrets) -> list[Problem]:
    by_id = {n.module.get("id"): n.module for n in nodes}
    outcomes = {n: _statuses(n.module, by_id) for n in callbacks}
    dry = f"{trigger_id}.dry_run"
    problems = []
    silent = [
        net
        for net in network
        if not any(
            "published" in found and n.handler_of is None and net.module in n.before for n, found in outcomes.items()
        )
    ]
    if silent:
        problems.append(Problem("callback_published", silent[0].path, {"modules": _labels(silent)}))
    unhandled = [
        net
        for net in network
        if not any("failed" in found and n.handler_of is net.module for n, found in outcomes.items())
    ]
    if unhandled:
        problems.append(Problem("callback_failed", unhandled[0].path, {"modules": _labels(unhandled)}))
    if not any("dry_run_ok" in found and _mentions(n.filters, dry) for n, found in outcomes.items()):
        problems.append(Problem("callback_dry_run"))
    exposed = [net for net in network if not _mentions(net.filters, dry)]
    if exposed:
        problems.append(Problem("dry_run_unguarded", exposed[0].path, {"modules": _labels(exposed)}))
    for node in callbacks:
        problems += _callback_module(node, secrets)
    return problems


def _callback_module(node, secrets) -> list[Problem]:
    mapper = node.module.get("mapper") or {}
    params = {"module": node.label}
    problems = []
    if mapper.get("stopOnHttpError") is not True:
        problems.append(Problem("stop_on_http_error", node.path, params))
    headers = {
        str(h.get("name") or h.get("key") or "").lower(): str(h.get("value") or "")
        for h in mapper.get("headers") or []
        if isinstance(h, dict)
    }
    arguments = _sha256_arguments(headers.get("webhook-signature", ""))
    if (
        not {"webhook-id", "webhook-timestamp"} <= set(headers)
        or len(arguments) < 3
        or _unquote(arguments[1]) != "base64"
    ):
        problems.append(Problem("unsigned", node.path, params))
    elif secrets and _unquote(arguments[2]) not in secrets:
        problems.append(Problem("wrong_secret", node.path, params))
    return problems


def _unknown_fields(blueprint: dict, trigger_id) -> list[Problem]:
    unknown = sorted({ref for ref in _references(blueprint, trigger_id) if not _known(ref)})
    if not unknown:
        return []
    return [
        Problem(
            "unknown_fields",
            "",
            {
                "fields": ", ".join(f"{trigger_id}.{ref}" for ref in unknown),
                "known": ", ".join(f"{trigger_id}.{name}" for name in PAYLOAD),
            },
        )
    ]


# -- IML, just enough ----------------------------------------------------------------------------
_REF = r"(?<![\w.`])%s\.((?:`[^`]*`|[A-Za-z_]\w*)(?:\[\d*\]|\.(?:`[^`]*`|[A-Za-z_]\w*))*)"
_SEGMENT = re.compile(r"`([^`]*)`|([A-Za-z_]\w*)|(\[\d*\])")
_STATUS = re.compile(r'status\W{1,8}(%s)\b' % "|".join(STATUSES))


def _expressions(text: str) -> list[str]:
    """The insides of every `{{…}}` of a text, quotes and parentheses respected."""
    found, position = [], 0
    while (start := text.find("{{", position)) >= 0:
        depth, index, quoted = 0, start + 2, False
        while index < len(text):
            char = text[index]
            if quoted:
                quoted = char != '"' or text[index - 1] == "\\"
            elif char == '"':
                quoted = True
            elif char in "()":
                depth += 1 if char == "(" else -1
            elif depth <= 0 and text.startswith("}}", index):
                break
            index += 1
        found.append(text[start + 2 : index])
        position = index + 2
    return found


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _mapped(blueprint: dict) -> Iterable[str]:
    """What the modules map: mappers, filters and parameters, not metadata."""

    def modules(flow):
        for module in flow or []:
            if isinstance(module, dict):
                yield module
                yield from modules(module.get("onerror"))
                for route in module.get("routes") or []:
                    yield from modules((route or {}).get("flow"))

    for module in modules(blueprint.get("flow")):
        for key in ("mapper", "filter", "parameters"):
            yield from _strings(module.get(key))


def _references(blueprint: dict, module_id) -> set[str]:
    pattern = re.compile(_REF % re.escape(str(module_id)))
    return {
        match.group(1)
        for text in _mapped(blueprint)
        for expression in _expressions(text)
        for match in pattern.finditer(expression)
    }


def _known(reference: str) -> bool:
    schema = PAYLOAD
    for match in _SEGMENT.finditer(reference):
        if match.group(3) is not None:  # [n] or []: an item of an array
            if not isinstance(schema, list):
                return False
            schema = schema[0]
            continue
        name = match.group(1) if match.group(1) is not None else match.group(2)
        if isinstance(schema, list):
            schema = schema[0]  # `media.url` maps every item, like `media[].url`
        if not isinstance(schema, dict) or name not in schema:
            return False
        schema = schema[name]
    return True


def _mentions(filters: list[dict], reference: str) -> bool:
    """Whether a filter's condition maps `reference` (`"2."`: any output of module 2)."""
    tail = "" if reference.endswith(".") else r"\b"
    pattern = re.compile(r"(?<![\w.`])" + re.escape(reference) + tail)
    return any(pattern.search(expression) for text in _strings(filters) for expression in _expressions(text))


def _statuses(module: dict, by_id: dict) -> set[str]:
    """The outcomes a callback reports: its body, with the variables it maps from earlier
    `util:SetVariables` modules spelled out."""
    texts = list(_strings(module.get("mapper") or {}))
    for expression in [e for text in texts for e in _expressions(text)]:
        for match in re.finditer(r"(?<![\w.])(\d+)\.", expression):
            source = by_id.get(int(match.group(1)))
            if source is not None and _app(source) == "util":
                texts += _strings(source.get("mapper") or {})
    return set(_STATUS.findall("\n".join(texts).replace("\\", "")))


def _sha256_arguments(value: str) -> list[str]:
    for expression in _expressions(value):
        start = expression.find("sha256(")
        if start < 0:
            continue
        arguments, depth, current, quoted = [], 0, "", False
        for char in expression[start + 7 :]:
            if quoted:
                quoted = char != '"'
            elif char == '"':
                quoted = True
            elif char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            elif char == ";" and depth == 0:
                arguments.append(current.strip())
                current = ""
                continue
            current += char
        return arguments + [current.strip()]
    return []


def _unquote(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _labels(nodes) -> str:
    return ", ".join(node.label for node in nodes)
