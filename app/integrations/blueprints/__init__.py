"""The project's Make scenario blueprints, one JSON file per platform (see README.md here).

The files carry no installation-specific value: `render()` fills the webhook id, the network
connection id, the Data Store id, the callback secret and the scenario name.
"""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

PLATFORMS = ("facebook", "instagram", "youtube", "linkedin", "x", "tiktok")
SECRET_PLACEHOLDER = "__CALLBACK_SECRET__"
# Hex, at least 24 bytes (external-apis.md §1.6): no quoting issue inside IML.
_SECRET = re.compile(r"[0-9a-fA-F]{48,}")
_HERE = Path(__file__).resolve().parent


class BlueprintError(ValueError):
    pass


@cache
def _template(platform: str) -> str:
    if platform not in PLATFORMS:
        raise BlueprintError(f"no blueprint for platform {platform!r}")
    return (_HERE / f"{platform}.json").read_text(encoding="utf-8")


def load(platform: str) -> dict:
    """The platform's blueprint with its placeholders (a fresh copy)."""
    return json.loads(_template(platform))


def walk_modules(flow: list):
    """Every module of a flow, error-handler routes and router branches included."""
    for module in flow:
        yield module
        yield from walk_modules(module.get("onerror") or [])
        for route in module.get("routes") or []:
            yield from walk_modules(route.get("flow") or [])


def bindings(blueprint: dict) -> tuple[int | None, set[int]]:
    """The webhook id of the trigger and the connection ids the blueprint uses."""
    hook = (blueprint["flow"][0].get("parameters") or {}).get("hook")
    connections = {module["parameters"]["__IMTCONN__"] for module in walk_modules(blueprint["flow"])
                   if "__IMTCONN__" in (module.get("parameters") or {})}
    return hook, connections


def check_secret(secret: str | None) -> str:
    if not secret or not _SECRET.fullmatch(secret):
        raise BlueprintError("MAKE_CALLBACK_SECRET must be hex, at least 24 bytes (48 digits)")
    return secret


def render(platform: str, *, name: str, hook_id: int, connection_id: int, datastore_id: int,
           secret: str) -> dict:
    """The blueprint to send to Make for one campaign and social account.

    The secret is inlined as the HMAC key's text (IML's `sha256(...; base64; key)` reads a
    bare key as text), so the scenario must stay `confidential`.
    """
    for label, value in (("hook id", hook_id), ("connection id", connection_id),
                         ("Data Store id", datastore_id)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise BlueprintError(f"the {label} must be a positive integer, not {value!r}")
    check_secret(secret)
    blueprint = json.loads(_template(platform).replace(SECRET_PLACEHOLDER, secret))
    blueprint["name"] = name
    trigger = blueprint["flow"][0]
    trigger["parameters"]["hook"] = hook_id
    trigger["metadata"]["restore"]["parameters"]["hook"]["label"] = name
    for module in walk_modules(blueprint["flow"]):
        parameters = module.get("parameters") or {}
        if "__IMTCONN__" in parameters:
            parameters["__IMTCONN__"] = connection_id
        if "datastore" in parameters:
            parameters["datastore"] = datastore_id
    return blueprint


def replace_secret(blueprint: dict, old: str, new: str) -> tuple[dict, int]:
    """A copy of a blueprint not rendered here (a cloned template) with the callback secret
    `old` replaced by `new`, and how many strings changed."""
    check_secret(old)
    check_secret(new)
    changed = 0

    def swap(value):
        nonlocal changed
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        if isinstance(value, str) and old in value:
            changed += 1
            return value.replace(old, new)
        return value

    return swap(blueprint), changed
