"""Template scenarios built the way an account owner would build one in Make's editor around a
network module of their choosing, honouring the CMS's contract (app/integrations/template_check)."""

from __future__ import annotations

import copy

_DRY = {"a": "{{1.dry_run}}", "o": "text:equal", "b": "true"}
_NOT_DRY = {"a": "{{1.dry_run}}", "o": "text:notequal", "b": "true"}


def _break(module_id: int) -> list[dict]:
    return [
        {"id": module_id, "module": "builtin:Break", "version": 1, "mapper": {"retry": True, "count": 3, "interval": 1}}
    ]


def _variables(module_id: int, status: str, extra: str, filter_=None) -> dict:
    body = (
        '{"delivery_id":"{{1.delivery_id}}","idempotency_key":"{{1.idempotency_key}}",'
        '"fingerprint":"{{1.fingerprint}}","status":"%s",%s,"sent_at":{{formatDate(now; "X")}}}' % (status, extra)
    )
    module = {
        "id": module_id,
        "module": "util:SetVariables",
        "version": 1,
        "parameters": {},
        "mapper": {
            "scope": "roundtrip",
            "variables": [
                {"name": "ts", "value": '{{formatDate(now; "X")}}'},
                {"name": "wid", "value": "{{1.delivery_id}}:%s:{{1.attempt}}" % status},
                {"name": "cb", "value": body},
            ],
        },
    }
    if filter_:
        module["filter"] = filter_
    return module


def _callback(module_id: int, variables: int, secret: str) -> dict:
    signature = 'v1,{{sha256(%d.wid + "." + %d.ts + "." + %d.cb; "base64"; "%s")}}' % (
        variables,
        variables,
        variables,
        secret,
    )
    return {
        "id": module_id,
        "module": "http:MakeRequest",
        "version": 4,
        "parameters": {"authenticationType": "noAuth"},
        "mapper": {
            "url": "{{1.callback_url}}",
            "method": "post",
            "contentType": "json",
            "inputMethod": "jsonString",
            "jsonStringBodyContent": "{{%d.cb}}" % variables,
            "parseResponse": True,
            "stopOnHttpError": True,
            "allowRedirects": False,
            "shareCookies": False,
            "requestCompressedContent": True,
            "queryParameters": [],
            "headers": [
                {"name": "webhook-id", "value": "{{%d.wid}}" % variables},
                {"name": "webhook-timestamp", "value": "{{%d.ts}}" % variables},
                {"name": "webhook-signature", "value": signature},
            ],
        },
        "onerror": _break(module_id + 100),
    }


def contract_template(
    network_module: dict,
    *,
    secret: str,
    hook_id: int | None = None,
    datastore_id: int = 1,
    name: str = "template",
    external_id: str = "{{10.id}}",
) -> dict:
    """A blueprint around `network_module` (renumbered 10; its output read as `{{10.id}}`, the
    one output evidenced for publish modules): webhook, Data Store lookup, then a router with
    three routes: publish (not published yet, not a dry run), call back the stored result
    (already published), and the dry run (`dry_run_ok`, nothing posted)."""
    network = copy.deepcopy(network_module)
    network.update(
        id=10,
        filter={
            "name": "Not published yet, not a dry run",
            "conditions": [[{"a": "{{2.external_id}}", "o": "notexist"}, _NOT_DRY]],
        },
    )
    network["onerror"] = [
        {
            "id": 11,
            "module": "json:TransformToJSON",
            "version": 1,
            "parameters": {"space": ""},
            "mapper": {"object": "{{10.error.message}}"},
        },
        _variables(
            12,
            "failed",
            '"external_id":null,"external_url":null,"error":{"code":"network_error","message":{{11.json}}}',
        ),
        _callback(13, 12, secret),
        {"id": 14, "module": "builtin:Ignore", "version": 1},
    ]
    publish = [
        network,
        {
            "id": 20,
            "module": "datastore:AddRecord",
            "version": 1,
            "parameters": {"datastore": datastore_id},
            "mapper": {
                "key": "{{1.idempotency_key}}",
                "overwrite": True,
                "data": {"external_id": external_id, "external_url": ""},
            },
            "onerror": _break(120),
        },
        _variables(21, "published", f'"external_id":"{external_id}","external_url":null,"error":null'),
        _callback(22, 21, secret),
    ]
    stored = [
        _variables(
            30,
            "published",
            '"external_id":"{{2.external_id}}","external_url":"{{2.external_url}}","error":null',
            {"name": "Already published", "conditions": [[{"a": "{{2.external_id}}", "o": "exist"}, _NOT_DRY]]},
        ),
        _callback(31, 30, secret),
    ]
    dry = [
        _variables(
            40,
            "dry_run_ok",
            '"external_id":null,"external_url":null,"error":null',
            {"name": "Dry run: post nothing", "conditions": [[_DRY]]},
        ),
        _callback(41, 40, secret),
    ]
    blueprint = {
        "name": name,
        "flow": [
            {
                "id": 1,
                "module": "gateway:CustomWebHook",
                "version": 1,
                "parameters": {"hook": hook_id, "maxResults": 1},
                "mapper": {},
            },
            {
                "id": 2,
                "module": "datastore:GetRecord",
                "version": 1,
                "parameters": {"datastore": datastore_id},
                "mapper": {"key": "{{1.idempotency_key}}", "returnWrapped": False},
                "onerror": _break(102),
            },
            {
                "id": 3,
                "module": "builtin:BasicRouter",
                "version": 1,
                "mapper": None,
                "routes": [{"flow": publish}, {"flow": stored}, {"flow": dry}],
            },
        ],
        "metadata": {
            "instant": True,
            "version": 1,
            "designer": {"orphans": []},
            "scenario": {
                "roundtrips": 1,
                "maxErrors": 3,
                "autoCommit": True,
                "autoCommitTriggerLast": True,
                "sequential": True,
                "confidential": True,
                "dataloss": False,
                "dlq": True,
                "freshVariables": False,
            },
        },
    }
    for number, module in enumerate(modules(blueprint).values()):  # where the editor drew it
        module.setdefault("metadata", {})["designer"] = {"x": 300 * number, "y": 0}
    return blueprint


def modules(blueprint: dict):
    """Every module of a blueprint, by id (routes and error handlers included)."""

    def walk(flow):
        for module in flow or []:
            yield module
            yield from walk(module.get("onerror"))
            for route in module.get("routes") or []:
                yield from walk(route.get("flow"))

    return {module["id"]: module for module in walk(blueprint["flow"])}


def instagram_photo(connection_id: int) -> dict:
    """The Instagram photo post of public exports (docs/make-modules.md), fed from the payload."""
    return {
        "id": 3,
        "module": "instagram-business:CreatePostPhoto",
        "version": 1,
        "parameters": {"__IMTCONN__": connection_id},
        "mapper": {"accountId": "{{1.account_identifier}}", "image_url": "{{1.media[1].url}}", "caption": "{{1.text}}"},
    }


def http_post(url: str) -> dict:
    """A network's API called directly (how teams post where Make has no module of its own)."""
    return {
        "id": 3,
        "module": "http:MakeRequest",
        "version": 4,
        "parameters": {"authenticationType": "noAuth"},
        "mapper": {
            "url": url,
            "method": "post",
            "contentType": "json",
            "inputMethod": "jsonString",
            "jsonStringBodyContent": '{"text": "{{1.text}}"}',
            "parseResponse": True,
            "stopOnHttpError": True,
            "allowRedirects": False,
            "shareCookies": False,
            "requestCompressedContent": True,
        },
    }
