"""The flow every campaign scenario shares, around a network's own modules (README.md here).

```
1 webhook -> 2 Data Store lookup -> 4 router -+-> [dry run]            5 variables -> 6 callback "dry_run_ok"
                                              +-> [already published]  8 variables -> 9 callback "published" (stored)
                                              +-> [new, variant k]     network modules -> store -> callback "published"
                                                                       each failing module -> error route -> callback "failed"
```

Module ids are fixed for the shared part and start at 20, 40, 60… for the routes of the
network's variants, so the same platform always renders the same blueprint.
"""

from __future__ import annotations

import json
import re

from app.integrations.blueprints.networks import Network, Step, Variant

SECRET_PLACEHOLDER = "__CALLBACK_SECRET__"
TRIGGER, LOOKUP, ROUTER = 1, 2, 4
NOT_PUBLISHED = {"a": "{{2.external_id}}", "o": "notexist"}
PUBLISHED = {"a": "{{2.external_id}}", "o": "exist"}
DRY_RUN = {"a": "{{1.dry_run}}", "b": "true", "o": "boolean:equal"}
NOT_DRY_RUN = {"a": "{{1.dry_run}}", "b": "true", "o": "text:notequal"}
# Retries of a refused callback: 10 tries 30 minutes apart (the CMS accepts a signed callback
# for 48 h); of a Data Store operation: 3 tries a minute apart.
CALLBACK_RETRY = {"retry": True, "count": 10, "interval": 30}
STORE_RETRY = {"retry": True, "count": 3, "interval": 1}
NOW = '{{formatDate(now; "X")}}'
SCENARIO_SETTINGS = {
    "roundtrips": 1,
    "maxErrors": 3,
    "autoCommit": True,
    "autoCommitTriggerLast": True,
    "sequential": True,
    "slots": None,
    "confidential": True,
    "dataloss": False,
    "dlq": True,
    "freshVariables": False,
}


def build(network: Network) -> dict:
    """The platform's blueprint with its placeholders: null ids, null name, the secret's
    placeholder text."""
    routes = [_dry_run_route(), _stored_route(network)]
    routes += [
        _publish_route(network, variant, base=20 * (index + 1), row=index + 2)
        for index, variant in enumerate(network.variants)
    ]
    return {
        "name": None,
        "flow": [
            _trigger(),
            _lookup(),
            _module(ROUTER, "builtin:BasicRouter", 1, None, x=600, routes=[{"flow": flow} for flow in routes]),
        ],
        "metadata": {"instant": True, "version": 1, "designer": {"orphans": []}, "scenario": dict(SCENARIO_SETTINGS)},
    }


def _module(
    module_id: int, name: str, version: int, mapper, *, x: int, y: int = 0, parameters: dict | None = None, **extra
) -> dict:
    module = {"id": module_id, "module": name, "version": version}
    if parameters is not None:
        module["parameters"] = parameters
    module["mapper"] = mapper
    module["metadata"] = {"designer": {"x": x, "y": y}}
    module.update(extra)
    return module


def _retry(module_id: int, mapper: dict, *, x: int, y: int) -> list[dict]:
    return [_module(module_id, "builtin:Break", 1, dict(mapper), x=x, y=y + 150, parameters={})]


def _trigger() -> dict:
    trigger = _module(TRIGGER, "gateway:CustomWebHook", 1, {}, x=0, parameters={"hook": None, "maxResults": 1})
    trigger["metadata"].update(
        {
            "restore": {"parameters": {"hook": {"label": None, "data": {"editable": "true"}}}},
            "parameters": [
                {"name": "hook", "type": "hook:gateway-webhook", "label": "Webhook", "required": True},
                {"name": "maxResults", "type": "number", "label": "Maximum number of results"},
            ],
        }
    )
    return trigger


def _lookup() -> dict:
    return _module(
        LOOKUP,
        "datastore:GetRecord",
        1,
        {"key": "{{1.idempotency_key}}", "returnWrapped": False},
        x=300,
        parameters={"datastore": None},
        onerror=_retry(3, STORE_RETRY, x=300, y=0),
    )


def _callback(
    ids: tuple[int, int, int], *, wid: str, body: list, x: int, y: int, filter_: dict | None = None
) -> list[dict]:
    """A variables module that fixes the callback once (timestamp, webhook id, body), then the
    signed POST to the CMS, retried by Break with those same values."""
    variables_id, request_id, break_id = ids
    variables = [
        {"name": "ts", "value": NOW},
        {"name": "wid", "value": wid},
        {"name": "cb", "value": "{" + ",".join(f'"{key}":{value}' for key, value in body) + "}"},
    ]
    first = _module(
        variables_id, "util:SetVariables", 1, {"scope": "roundtrip", "variables": variables}, x=x, y=y, parameters={}
    )
    if filter_:
        first["filter"] = filter_
    v = variables_id
    signature = f'v1,{{{{sha256({v}.wid + "." + {v}.ts + "." + {v}.cb; "base64"; "{SECRET_PLACEHOLDER}")}}}}'
    request = _module(
        request_id,
        "http:MakeRequest",
        4,
        {
            "url": "{{1.callback_url}}",
            "method": "post",
            "headers": [
                {"name": "webhook-id", "value": f"{{{{{v}.wid}}}}"},
                {"name": "webhook-timestamp", "value": f"{{{{{v}.ts}}}}"},
                {"name": "webhook-signature", "value": signature},
            ],
            "queryParameters": [],
            "contentType": "json",
            "inputMethod": "jsonString",
            "jsonStringBodyContent": f"{{{{{v}.cb}}}}",
            "parseResponse": False,
            "stopOnHttpError": True,
            "allowRedirects": False,
            "shareCookies": False,
            "requestCompressedContent": True,
        },
        x=x + 300,
        y=y,
        parameters={"authenticationType": "noAuth"},
        onerror=_retry(break_id, CALLBACK_RETRY, x=x + 300, y=y),
    )
    return [first, request]


def _text(reference: str) -> str:
    return f'"{reference}"'


_HEAD = [("delivery_id", _text("{{1.delivery_id}}")), ("idempotency_key", _text("{{1.idempotency_key}}"))]


def _result(status: str, external_id: str, external_url: str, error: str) -> list:
    return [
        *_HEAD,
        ("fingerprint", _text("{{1.fingerprint}}")),
        ("status", _text(status)),
        ("external_id", external_id),
        ("external_url", external_url),
        ("error", error),
        ("sent_at", NOW),
    ]


def _dry_run_route() -> list[dict]:
    return _callback(
        (5, 6, 7),
        wid="{{1.idempotency_key}}:dry_run_ok",
        body=[*_HEAD, ("status", _text("dry_run_ok"))],
        x=900,
        y=0,
        filter_={"name": "Dry run: publish nothing, answer dry_run_ok", "conditions": [[DRY_RUN]]},
    )


def _stored_route(network: Network) -> list[dict]:
    url = _text("{{2.external_url}}") if network.external_url else "null"
    return _callback(
        (8, 9, 10),
        wid="{{1.delivery_id}}:published:{{1.attempt}}",
        body=_result("published", _text("{{2.external_id}}"), url, "null"),
        x=900,
        y=300,
        filter_={"name": "Already published: call back the stored result", "conditions": [[PUBLISHED, NOT_DRY_RUN]]},
    )


def _publish_route(network: Network, variant: Variant, *, base: int, row: int) -> list[dict]:
    ids = {step.name: base + index for index, step in enumerate(variant.steps)}
    next_id = base + len(variant.steps)
    y, flow = row * 300, []
    for column, step in enumerate(variant.steps):
        module = _module(
            ids[step.name],
            step.module,
            step.version,
            _resolve(step.mapper, ids),
            x=900 + 300 * column,
            y=y,
            parameters=_parameters(step, ids),
        )
        if step.fails:
            module["onerror"] = _failure_route(ids[step.name], next_id, x=900 + 300 * column, y=y)
            next_id += 6
        flow.append(module)
    flow[0]["filter"] = {
        "name": f"New post: {variant.label}",
        "conditions": [[NOT_PUBLISHED, NOT_DRY_RUN, *variant.conditions]],
    }
    post = ids["post"]
    url = _resolve(network.external_url, ids) if network.external_url else None
    data = {"external_id": f"{{{{{post}.id}}}}"} | ({"external_url": url} if url else {})
    x = 900 + 300 * len(variant.steps)
    flow.append(
        _module(
            next_id,
            "datastore:AddRecord",
            1,
            {"key": "{{1.idempotency_key}}", "overwrite": True, "data": data},
            x=x,
            y=y,
            parameters={"datastore": None},
            onerror=_retry(next_id + 1, STORE_RETRY, x=x, y=y),
        )
    )
    flow += _callback(
        (next_id + 2, next_id + 3, next_id + 4),
        wid="{{1.delivery_id}}:published:{{1.attempt}}",
        x=x + 300,
        y=y,
        body=_result("published", _text(f"{{{{{post}.id}}}}"), _text(url) if url else "null", "null"),
    )
    return flow


def _failure_route(failed_id: int, first_id: int, *, x: int, y: int) -> list[dict]:
    """The module's error as JSON text (quotes and line breaks cannot break the body), the
    signed "failed" callback, then Ignore: the run succeeds and the scenario stays on."""
    as_json = _module(
        first_id,
        "json:TransformToJSON",
        1,
        {"object": f"{{{{{failed_id}.error.message}}}}"},
        x=x,
        y=y + 150,
        parameters={"space": ""},
    )
    callback = _callback(
        (first_id + 1, first_id + 2, first_id + 3),
        wid="{{1.delivery_id}}:failed:{{1.attempt}}",
        x=x + 300,
        y=y + 150,
        body=_result("failed", "null", "null", f'{{"message":{{{{{first_id}.json}}}}}}'),
    )
    return [as_json, *callback, _module(first_id + 4, "builtin:Ignore", 1, {}, x=x + 900, y=y + 150, parameters={})]


def _parameters(step: Step, ids: dict) -> dict:
    parameters = _resolve(dict(step.parameters), ids)
    if step.connected:
        parameters["__IMTCONN__"] = None
    return parameters


_ID = re.compile(r"@\{(\w+)\}")


def _resolve(value, ids: dict):
    """``@{name}`` -> the step's module id (the whole value ``"@{name}"`` -> the integer)."""
    if isinstance(value, dict):
        return {key: _resolve(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, ids) for item in value]
    if isinstance(value, str):
        whole = _ID.fullmatch(value)
        if whole:
            return ids[whole[1]]
        return _ID.sub(lambda match: str(ids[match[1]]), value)
    return value


def dumps(blueprint: dict) -> str:
    return json.dumps(blueprint, indent=2, ensure_ascii=False) + "\n"
