"""What every ``/api/v2`` route shares: the error shape, authentication, scopes, the 429 and
fault knobs, pagination, and strict parsing of bodies and query strings."""

from __future__ import annotations

import functools
import re

from flask import g, jsonify, request

from . import core

RATE_LIMIT_MESSAGE = "Requests limit for organization exceeded, please try again later."
_TOKEN_HEADER = re.compile(r"Token ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.IGNORECASE)
_STATUS_MESSAGES = {
    400: "Invalid input",
    401: "Invalid access token",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    413: "Payload too large",
    415: "Unsupported media type",
    429: RATE_LIMIT_MESSAGE,
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class ApiError(Exception):
    """An error answer in Make's shape; ``suberrors`` are the per-field problems."""

    def __init__(self, status: int, detail: str, suberrors=(), headers=None):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.suberrors, self.headers = list(suberrors), headers or {}


def error_response(status: int, detail: str, suberrors=(), headers=None):
    body = {
        "detail": detail,
        "message": _STATUS_MESSAGES.get(status, "Error"),
        "code": f"SC{status}",
        "suberrors": [{"message": text} for text in suberrors],
    }
    return jsonify(body), status, headers or {}


def before_api_request():
    """Authenticate, then apply the 429 switch, the rate limit and forced failures."""
    emulator = core.current()
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(401, "Missing Authorization header: send 'Authorization: Token <token>'.")
    match = _TOKEN_HEADER.fullmatch(header.strip())
    if not match:
        raise ApiError(401, "Malformed Authorization header: expected 'Token <uuid>'.")
    scopes = emulator.config.scopes_of(match[1].lower())
    if scopes is None:
        raise ApiError(401, "Invalid access token.")
    g.scopes = scopes
    knobs = emulator.knobs
    if knobs.force_429 or not emulator.allow_api_call():
        headers = {"Retry-After": str(knobs.retry_after)} if knobs.retry_after else {}
        raise ApiError(429, RATE_LIMIT_MESSAGE, headers=headers)
    forced = emulator.take_fault("api")
    if forced:
        raise ApiError(forced, f"Forced failure {forced} (emulator knob api_fail_status).")


def requires(scope: str):
    """Answer 403 unless the token was created with ``scope``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if scope not in g.scopes:
                raise ApiError(403, "Access denied.", [f"The token lacks the scope {scope}."])
            return view(*args, **kwargs)

        return wrapper

    return decorator


def paginate(items: list[dict], key: str, sortable=("id", "name")):
    """The ``{key: [...], "pg": {...}}`` answer, honouring ``pg[offset|limit|sortBy|sortDir]``."""
    config = core.current().config
    offset = int_arg("pg[offset]", default=0, minimum=0)
    limit = int_arg("pg[limit]", default=config.default_page_limit, minimum=1, maximum=config.max_page_limit)
    sort_by = request.args.get("pg[sortBy]", "id")
    sort_dir = request.args.get("pg[sortDir]", "asc")
    problems = []
    if sort_by not in sortable:
        problems.append(f"pg[sortBy] must be one of {', '.join(sortable)}")
    if sort_dir not in ("asc", "desc"):
        problems.append("pg[sortDir] must be asc or desc")
    if problems:
        raise ApiError(400, "Invalid pagination parameters.", problems)
    ordered = sorted(items, key=lambda item: (item.get(sort_by) is None, item.get(sort_by)), reverse=sort_dir == "desc")
    pg = {"sortBy": sort_by, "sortDir": sort_dir, "limit": limit, "offset": offset, "returnTotalCount": False}
    return jsonify({key: ordered[offset : offset + limit], "pg": pg})


def int_arg(name: str, *, default=None, required=False, minimum=None, maximum=None):
    """A query-string integer; 400 when required and absent, or malformed, or out of range."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, f"Missing query parameter {name}.", [f"{name} is required"])
        return default
    if not re.fullmatch(r"-?\d+", raw):
        raise ApiError(400, f"Invalid query parameter {name}.", [f"{name} must be an integer"])
    value = int(raw)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ApiError(400, f"Invalid query parameter {name}.", [f"{name} must be between {minimum} and {maximum}"])
    return value


def bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise ApiError(400, f"Invalid query parameter {name}.", [f"{name} must be true or false"])
    return raw == "true"


_KINDS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str) and v.strip() != "",
    "json-string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "int?": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
}
_KIND_NAMES = {
    "int": "an integer",
    "bool": "a boolean",
    "str": "a non-empty string",
    "json-string": "a JSON string",
    "object": "an object",
    "int?": "an integer or null",
}


def json_body(required: dict[str, str], optional: dict[str, str] | None = None) -> dict:
    """The request's JSON object, checked field by field; every problem becomes a suberror.

    Unknown fields are refused too: the emulator is stricter than Make so that the client
    sends only what the contract names.
    """
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object sent as application/json.")
    optional = optional or {}
    problems = [f"{name} is required" for name in required if name not in body]
    for name, value in body.items():
        kind = required.get(name) or optional.get(name)
        if kind is None:
            problems.append(f"{name} is not a known field")
        elif not _KINDS[kind](value):
            problems.append(f"{name} must be {_KIND_NAMES[kind]}")
    if problems:
        raise ApiError(400, "Validation failed.", problems)
    return body
