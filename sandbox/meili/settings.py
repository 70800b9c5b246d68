"""Index settings: defaults, validation of update bodies, and how updates merge.

Validation happens when the request arrives (a malformed body is a synchronous
400 ``invalid_settings_*``, as with deserr), while the new values only take
effect when the ``settingsUpdate`` task runs. Settings the emulator does not act
on are reported at their defaults and may only be "set" to those defaults; any
other value is refused with 501 so nobody believes they are being honoured.
"""

from __future__ import annotations

import copy
import fnmatch
import re

from .errors import MeiliError, invalid_type, invalid_value, not_emulated, unknown_field, unknown_value

DEFAULT_RANKING_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
BUILTIN_RANKING_RULES = {
    "words",
    "typo",
    "proximity",
    "attribute",
    "sort",
    "exactness",
    "attributeRank",
    "wordPosition",
}
CUSTOM_RANKING_RULE = re.compile(r"^\S+:(asc|desc)$")

DEFAULTS = {
    "displayedAttributes": ["*"],
    "searchableAttributes": ["*"],
    "filterableAttributes": [],
    "sortableAttributes": [],
    "rankingRules": DEFAULT_RANKING_RULES,
    "typoTolerance": {
        "enabled": True,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnWords": [],
        "disableOnAttributes": [],
        "disableOnNumbers": False,
    },
    "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
    "pagination": {"maxTotalHits": 1000},
}
# Real settings the emulator does not act on: always reported at these values.
INERT_DEFAULTS = {
    "stopWords": [],
    "nonSeparatorTokens": [],
    "separatorTokens": [],
    "dictionary": [],
    "synonyms": {},
    "distinctAttribute": None,
    "proximityPrecision": "byWord",
    "embedders": {},
    "searchCutoffMs": None,
    "localizedAttributes": None,
    "facetSearch": True,
    "prefixSearch": "indexingTime",
}
ALL_KEYS = list(DEFAULTS) + list(INERT_DEFAULTS)
OBJECT_SETTINGS = {"typoTolerance", "faceting", "pagination"}
PATCHED_SUBROUTES = OBJECT_SETTINGS | {"embedders"}  # the other sub-routes take PUT
TYPO_FIELDS = ["enabled", "minWordSizeForTypos", "disableOnWords", "disableOnAttributes", "disableOnNumbers"]
# Sub-route name -> setting key, e.g. /settings/filterable-attributes.
SUBROUTES = {re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), key): key for key in ALL_KEYS}


def matches_attribute(name: str, patterns) -> bool:
    """Whether a list of attributes covers ``name``: exactly, as its parent, or by pattern.

    As in Meilisearch, listing ``meta`` also covers ``meta.size``.
    """
    for pattern in patterns:
        if (
            pattern in ("*", name)
            or name.startswith(pattern + ".")
            or ("*" in pattern and fnmatch.fnmatchcase(name, pattern))
        ):
            return True
    return False


def default_settings() -> dict:
    return copy.deepcopy(DEFAULTS)


def full_view(settings: dict) -> dict:
    """The body of ``GET /settings``: every real key, emulated or not."""
    view = copy.deepcopy(settings)
    view.update(copy.deepcopy(INERT_DEFAULTS))
    return {key: view[key] for key in ALL_KEYS}


def code_for(key: str) -> str:
    return "invalid_settings_" + re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def parse_patch(body) -> dict:
    """Validate a ``PATCH /settings`` body; ``None`` values mean "reset to default"."""
    if not isinstance(body, dict):
        raise invalid_type("bad_request", "", "an object", body)
    patch = {}
    for key, value in body.items():
        if key not in ALL_KEYS:
            raise unknown_field("bad_request", key, ALL_KEYS)
        patch[key] = parse_one(key, value, f".{key}")
    return patch


def parse_one(key: str, value, location: str):
    """Validate the value of one setting (also the body of its sub-route)."""
    if value is None:
        return None
    if key in INERT_DEFAULTS:
        if value != INERT_DEFAULTS[key]:
            raise not_emulated(f"the `{key}` setting")
        return value
    code = code_for(key)
    if key == "typoTolerance":
        return _parse_typo(value, location, code)
    if key == "faceting":
        return _parse_faceting(value, location, code)
    if key == "pagination":
        fields = _object(value, location, code, ["maxTotalHits"])
        return {name: _count(v, f"{location}.{name}", code) for name, v in fields.items()}
    if key == "filterableAttributes" and isinstance(value, list) and any(isinstance(item, dict) for item in value):
        raise not_emulated("granular filterable attribute rules (attributePatterns)")
    names = _strings(value, location, code)
    if key == "rankingRules":
        for position, rule in enumerate(names):
            if rule not in BUILTIN_RANKING_RULES and not CUSTOM_RANKING_RULE.match(rule):
                raise invalid_value(
                    code,
                    f"{location}[{position}]",
                    f"`{rule}` ranking rule is invalid. Valid ranking rules "
                    "are words, typo, sort, proximity, attribute, exactness "
                    "and custom ranking rules.",
                )
    return names


def _object(value, location: str, code: str, accepted: list[str]) -> dict:
    if not isinstance(value, dict):
        raise invalid_type(code, location, "an object", value)
    for name in value:
        if name not in accepted:
            raise unknown_field(code, name, accepted, location)
    return value


def _strings(value, location: str, code: str) -> list:
    if not isinstance(value, list):
        raise invalid_type(code, location, "an array", value)
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid_type(code, f"{location}[{position}]", "a string", item)
    return list(value)


def _count(value, location: str, code: str, maximum: int | None = None):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (maximum is not None and value > maximum):
        raise invalid_type(code, location, "a positive integer", value)
    return value


def _flag(value, location: str, code: str):
    if value is not None and not isinstance(value, bool):
        raise invalid_type(code, location, "a boolean", value)
    return value


def _parse_typo(value, location: str, code: str) -> dict:
    fields = _object(value, location, code, TYPO_FIELDS)
    parsed = {}
    for name, item in fields.items():
        where = f"{location}.{name}"
        if name in ("enabled", "disableOnNumbers"):
            parsed[name] = _flag(item, where, code)
        elif name == "minWordSizeForTypos":
            if item is not None:
                sizes = _object(item, where, code, ["oneTypo", "twoTypos"])
                item = {size: _count(n, f"{where}.{size}", code, 255) for size, n in sizes.items()}
            parsed[name] = item
        else:
            parsed[name] = None if item is None else _strings(item, where, code)
    return parsed


def _parse_faceting(value, location: str, code: str) -> dict:
    fields = _object(value, location, code, ["maxValuesPerFacet", "sortFacetValuesBy"])
    parsed = {}
    if "maxValuesPerFacet" in fields:
        parsed["maxValuesPerFacet"] = _count(fields["maxValuesPerFacet"], f"{location}.maxValuesPerFacet", code)
    if "sortFacetValuesBy" in fields:
        orders = fields["sortFacetValuesBy"]
        where = f"{location}.sortFacetValuesBy"
        if orders is not None:
            if not isinstance(orders, dict):
                raise invalid_type(code, where, "an object", orders)
            for facet, order in orders.items():
                if order not in ("alpha", "count"):
                    raise unknown_value(code, f"{where}.{facet}", str(order), ["alpha", "count"])
        parsed["sortFacetValuesBy"] = orders
    return parsed


def apply_patch(current: dict, patch: dict) -> dict:
    """The settings after a validated patch: objects merge field by field, lists replace.

    Raises :class:`MeiliError` for the checks Meilisearch only makes while the
    task runs (the typo sizes must be ordered), which the task then reports.
    """
    updated = copy.deepcopy(current)
    for key, value in patch.items():
        if key in INERT_DEFAULTS:
            continue
        if value is None:
            updated[key] = copy.deepcopy(DEFAULTS[key])
        elif key in OBJECT_SETTINGS:
            updated[key] = _merge(updated[key], value, DEFAULTS[key])
        else:
            updated[key] = list(value)
    sizes = updated["typoTolerance"]["minWordSizeForTypos"]
    if sizes["twoTypos"] < sizes["oneTypo"]:
        raise MeiliError(
            400,
            "invalid_settings_typo_tolerance",
            "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` "
            "fields should be between `0` and `255`, and `twoTypos` should be "
            "greater or equals to `oneTypo` but found "
            f"`oneTypo: {sizes['oneTypo']}` and twoTypos: {sizes['twoTypos']}`.",
        )
    return updated


def _merge(current: dict, patch: dict, defaults: dict) -> dict:
    merged = dict(current)
    for name, value in patch.items():
        if value is None:
            merged[name] = copy.deepcopy(defaults[name])
        elif name == "minWordSizeForTypos":
            merged[name] = _merge(current[name], value, defaults[name])
        elif name == "sortFacetValuesBy":
            merged[name] = {"*": "alpha", **value}
        else:
            merged[name] = copy.deepcopy(value)
    return merged


def reset_patch() -> dict:
    """The patch a ``DELETE /settings`` amounts to."""
    return {key: None for key in DEFAULTS}
