"""The project's Make scenario blueprints, one per network with a Make module public evidence
vouches for (README.md here, docs/make-modules.md).

`load()` builds a platform's blueprint with placeholders, `render()` fills what belongs to one
installation and campaign (webhook, connection, Data Store, callback secret, name), `starter()`
gives the importable file without account bindings (`starters/`). Facebook, Instagram,
LinkedIn and YouTube are native; X and TikTok have no Make module any public export shows, so
`native_supported()` is False for them: their accounts publish through a template scenario the
account's owner builds in Make, and `render()` refuses them.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

from app.integrations.blueprints.networks import NETWORKS
from app.integrations.blueprints.scenario import SECRET_PLACEHOLDER, build, dumps

PLATFORMS = ("facebook", "instagram", "youtube", "linkedin", "x", "tiktok")
NATIVE_PLATFORMS = tuple(platform for platform in PLATFORMS if platform in NETWORKS)
STARTERS_DIR = Path(__file__).resolve().parent / "starters"
BINDINGS = ("hook", "__IMTCONN__", "datastore")
EXPORTER_METADATA = ("restore", "parameters", "expect", "interface", "advanced")
# Hex, at least 24 bytes (external-apis.md §1.6): no quoting issue inside IML.
_SECRET = re.compile(r"[0-9a-fA-F]{48,}")

__all__ = [
    "BlueprintError",
    "NATIVE_PLATFORMS",
    "PLATFORMS",
    "SECRET_PLACEHOLDER",
    "bindings",
    "check_secret",
    "connection_types",
    "load",
    "native_supported",
    "render",
    "replace_secret",
    "requires_template",
    "starter",
    "walk_modules",
]


class BlueprintError(ValueError):
    pass


def native_supported(platform: str) -> bool:
    """Whether the repository ships a blueprint for the platform; when False, an account of it
    needs a template scenario (its `template_scenario_id`) to publish."""
    return platform in NETWORKS


def requires_template(platform: str) -> bool:
    return not native_supported(platform)


def connection_types(platform: str) -> tuple[str, ...]:
    """The Make connection types (a connection's `accountName`) the platform's modules accept;
    empty for a platform published through a template."""
    network = NETWORKS.get(platform)
    return network.connection_types if network else ()


@cache
def _template(platform: str) -> str:
    if platform not in PLATFORMS:
        raise BlueprintError(f"no blueprint for platform {platform!r}")
    if not native_supported(platform):
        raise BlueprintError(
            f"no Make module publishes to {platform} in any public export: accounts of this "
            "network publish through a template scenario built in Make (set its template)"
        )
    return json.dumps(build(NETWORKS[platform]))


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
    connections = {
        module["parameters"]["__IMTCONN__"]
        for module in walk_modules(blueprint["flow"])
        if "__IMTCONN__" in (module.get("parameters") or {})
    }
    return hook, connections


def check_secret(secret: str | None) -> str:
    if not secret or not _SECRET.fullmatch(secret):
        raise BlueprintError("MAKE_CALLBACK_SECRET must be hex, at least 24 bytes (48 digits)")
    return secret


def render(platform: str, *, name: str, hook_id: int, connection_id: int, datastore_id: int, secret: str) -> dict:
    """The blueprint to send to Make for one campaign and social account.

    The secret is inlined as the HMAC key's text (IML's `sha256(…; "base64"; "key")` reads a
    key as text), so the scenario must stay `confidential`.
    """
    for label, value in (("hook id", hook_id), ("connection id", connection_id), ("Data Store id", datastore_id)):
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


def starter(platform: str) -> dict:
    """The importable file of a platform: no webhook, connection or Data Store (Make asks for
    them on import), no exporter-only metadata, the secret's placeholder to replace with the
    installation's callback secret (docs/make-starters.md)."""
    blueprint = load(platform)
    blueprint["name"] = f"CMS {platform} publication (starter)"
    for module in walk_modules(blueprint["flow"]):
        for key in BINDINGS:
            (module.get("parameters") or {}).pop(key, None)
        for key in EXPORTER_METADATA:
            module["metadata"].pop(key, None)
    return blueprint


def write_starters(directory: Path = STARTERS_DIR) -> list[Path]:
    """Write every native platform's starter file (`python -m app.integrations.blueprints`)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for platform in NATIVE_PLATFORMS:
        path = directory / f"{platform}.json"
        path.write_text(dumps(starter(platform)), encoding="utf-8")
        written.append(path)
    return written


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

    return swap(copy.deepcopy(blueprint)), changed
