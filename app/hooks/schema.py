"""The shape of a Make status callback, checked before anything is recorded.

`parse(body)` is the only way the request reads a signed body: strict JSON within limits
(UTF-8, one object, depth `MAX_DEPTH`, no duplicate key, no NaN/Infinity, numbers of sane size,
no NUL or lone surrogate in any string, which PostgreSQL would refuse), then `FIELDS`, the one
schema of what app.publishing.results applies. A body that fails any rule can never apply:
the request answers 400 with the reason and records nothing (docs/external-apis.md, "Make
status callbacks", lists the reasons). Unknown extra fields are allowed (they are ignored),
within the same limits, so the scenarios may add some later.
"""

from __future__ import annotations

import json

from app.publishing.results import RESULT_STATUSES
from app.publishing.urls import safe_external_url

DRY_RUN_OK = "dry_run_ok"
STATUSES = (*RESULT_STATUSES, DRY_RUN_OK)
MAX_DEPTH = 8
MAX_NUMBER_CHARS = 24  # a Unix time or a network's numeric id is far shorter


class Malformed(Exception):
    """Why a signed body can never apply: `reason` (and the `field`) go back to the caller."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(f"{reason}: {field}" if field else reason)
        self.reason, self.field = reason, field


def parse(body: bytes) -> dict:
    """The callback's fields, checked; raise Malformed otherwise."""
    payload = _load(body)
    if not isinstance(payload, dict):
        raise Malformed("not_an_object")
    _check_values(payload)
    for field, (required, valid) in FIELDS.items():
        if field not in payload:
            if required:
                raise Malformed("missing_field", field)
        elif not valid(payload[field]):
            raise Malformed("unknown_status" if field == "status" else "invalid_field", field)
    return payload


def _load(body: bytes):
    try:
        text = body.decode("utf-8")  # strict: never a guess at another encoding
    except UnicodeDecodeError:
        raise Malformed("invalid_utf8")
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_int=_int, parse_float=_float
        )
    except Malformed:
        raise
    except RecursionError:  # nesting deeper than the interpreter's stack: far past MAX_DEPTH
        raise Malformed("too_deep")
    except ValueError:
        raise Malformed("invalid_json")


def _no_duplicates(pairs: list) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise Malformed("duplicate_key")
    return result


def _no_constant(name: str):
    raise Malformed("number_out_of_range")  # NaN, Infinity, -Infinity are not JSON


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise Malformed("number_out_of_range")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_NUMBER_CHARS or value in (float("inf"), float("-inf")):
        raise Malformed("number_out_of_range")
    return value


def _check_values(payload: dict) -> None:
    """Every key and string at any depth, without recursion: depth, NUL, lone surrogates."""
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed("too_deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            for text in (key, item):
                if isinstance(text, str) and not _storable(text):
                    raise Malformed("forbidden_character")
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")  # a lone surrogate (from a \ud800 escape) cannot be stored
    except UnicodeEncodeError:
        return False
    return True


def _text(limit: int, *, empty: bool = False):
    return lambda value: isinstance(value, str) and (empty or value != "") and len(value) <= limit


def _optional(check):
    return lambda value: value is None or check(value)


def _identifier(value) -> bool:
    """A network's id: text (empty when the network gave none), or a number (never a boolean);
    app.publishing.results keeps at most 255 characters of it."""
    return _text(255, empty=True)(value) or (isinstance(value, int) and not isinstance(value, bool))


def _external_url(value) -> bool:
    """Empty means the network gave no address (a mapping of a missing output); else the one
    rule of app.publishing.urls."""
    return value == "" or safe_external_url(value) is not None


def _error(value) -> bool:
    return (
        isinstance(value, dict)
        and _optional(_identifier)(value.get("code"))
        and _optional(lambda message: isinstance(message, str))(value.get("message"))
    )


def _unix_time(value) -> bool:
    if isinstance(value, str):
        return value.isascii() and value.isdigit()
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# The one schema: field -> (required, valid value). What app.publishing.results reads
# (status, idempotency_key, fingerprint, external_id, external_url, error.code/.message),
# what the request reads (delivery_id), and what the scenarios add.
FIELDS = {
    "delivery_id": (True, _text(200)),
    "idempotency_key": (True, _text(200)),
    "status": (True, lambda value: isinstance(value, str) and value in STATUSES),
    "fingerprint": (False, _optional(_text(200, empty=True))),
    "external_id": (False, _optional(_identifier)),
    "external_url": (False, _optional(_external_url)),
    "error": (False, _optional(_error)),
    "sent_at": (False, _optional(_unix_time)),
    "scenario_id": (False, _optional(_identifier)),
    "execution_id": (False, _optional(_identifier)),
}
