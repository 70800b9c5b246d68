"""Meilisearch's error shape, and the wording its request deserializer uses.

Every refusal goes through :class:`MeiliError`, so each body is exactly
``{message, code, type, link}`` and the client's ``MeilisearchApiError`` gets the
same ``code`` it would get from a real server. The messages copy Meilisearch's
own wording (``deserr`` for body validation, milli for engine errors) because
CMS code and logs may show them.
"""

from __future__ import annotations

import json

DOCS_LINK = "https://docs.meilisearch.com/errors#{code}"


class MeiliError(Exception):
    """An HTTP error answered with Meilisearch's JSON error body."""

    def __init__(self, status: int, code: str, message: str, error_type: str = "invalid_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type

    def body(self) -> dict:
        return error_body(self.code, self.message, self.error_type)


def error_body(code: str, message: str, error_type: str = "invalid_request") -> dict:
    """The error object, also embedded as ``task.error`` for failed tasks."""
    return {"message": message, "code": code, "type": error_type, "link": DOCS_LINK.format(code=code)}


def compact_json(value) -> str:
    """JSON the way serde_json prints it inside messages: no spaces, UTF-8 kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def describe(value) -> str:
    """deserr's description of a JSON value, e.g. ``a string: `"x"` ``."""
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int):
        kind = "a positive integer" if value >= 0 else "a negative integer"
    elif isinstance(value, float):
        kind = "a number"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, list):
        kind = "an array"
    else:
        kind = "an object"
    return f"{kind}: `{compact_json(value)}`"


def _at(location: str) -> str:
    return f" at `{location}`" if location else ""


def invalid_type(code: str, location: str, expected: str, value) -> MeiliError:
    return MeiliError(400, code, f"Invalid value type{_at(location)}: expected {expected}, but found {describe(value)}")


def invalid_value(code: str, location: str, detail: str) -> MeiliError:
    return MeiliError(400, code, f"Invalid value{_at(location)}: {detail}")


def unknown_field(code: str, field: str, accepted, location: str = "") -> MeiliError:
    inside = f" inside `{location}`" if location else ""
    expected = ", ".join(f"`{name}`" for name in accepted)
    return MeiliError(400, code, f"Unknown field `{field}`{inside}: expected one of {expected}")


def unknown_value(code: str, location: str, value: str, accepted) -> MeiliError:
    expected = ", ".join(f"`{name}`" for name in accepted)
    return MeiliError(400, code, f"Unknown value `{value}`{_at(location)}: expected one of {expected}")


def index_not_found(uid: str) -> MeiliError:
    return MeiliError(404, "index_not_found", f"Index `{uid}` not found.")


def invalid_index_uid(uid: str, code: str = "invalid_index_uid") -> MeiliError:
    return MeiliError(
        400,
        code,
        f"`{uid}` is not a valid index uid. Index uid can be an integer or a "
        "string containing only alphanumeric characters, hyphens (-) and "
        "underscores (_), and can not be more than 512 bytes.",
    )


def not_emulated(feature: str) -> MeiliError:
    """A real Meilisearch feature the emulator deliberately does not fake.

    Answering 501 (instead of silently ignoring the parameter) makes a test fail
    loudly when CMS code starts relying on something the emulator cannot prove.
    """
    return MeiliError(501, "not_emulated", f"The Meilisearch emulator does not implement {feature}.", "system")
