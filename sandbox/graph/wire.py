"""What goes on the wire: Graph's JSON responses, its error shape and its timestamps.

Every Graph error leaves through :class:`GraphError`, so the body always has the documented
``{"error": {"code", "message", "innerError": {...}}}`` shape that clients branch on.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from flask import Response, g, request

GRAPH_CONTENT_TYPE = "application/json; odata.metadata=minimal; charset=utf-8"

# Top-level code Graph uses for a status when the emulator has nothing more specific to say.
DEFAULT_CODES = {
    400: "invalidRequest",
    401: "InvalidAuthenticationToken",
    403: "accessDenied",
    404: "itemNotFound",
    405: "invalidRequest",
    409: "nameAlreadyExists",
    411: "invalidRequest",
    412: "resourceModified",
    413: "invalidRequest",
    416: "invalidRange",
    429: "activityLimitReached",
    500: "generalException",
    502: "generalException",
    503: "serviceNotAvailable",
    504: "serviceNotAvailable",
    507: "quotaLimitReached",
}


class GraphError(Exception):
    """An error answered in Graph's shape; ``inner_code`` is the more specific nested code."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        inner_code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or DEFAULT_CODES.get(status, "generalException")
        self.message = message
        self.inner_code = inner_code
        self.headers = headers or {}

    def to_response(self) -> Response:
        inner = {
            "date": iso_seconds(datetime.now(timezone.utc).timestamp()),
            "request-id": request_id(),
            "client-request-id": request.headers.get("client-request-id", request_id()),
        }
        if self.inner_code:
            inner = {"code": self.inner_code, **inner}
        body = {"error": {"code": self.code, "message": self.message, "innerError": inner}}
        return json_response(body, self.status, headers=self.headers)


def request_id() -> str:
    """One id per request, echoed in headers and error bodies as Graph does."""
    if "request_id" not in g:
        g.request_id = str(uuid.uuid4())
    return g.request_id


def json_response(
    body: object, status: int = 200, *, headers: dict[str, str] | None = None, content_type: str = GRAPH_CONTENT_TYPE
) -> Response:
    response = Response(json.dumps(body), status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def iso_seconds(timestamp: float) -> str:
    """Item timestamps: whole seconds, UTC, ``Z`` suffix (``2025-01-01T10:00:00Z``)."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(timestamp: float) -> str:
    """Upload-session expiry: milliseconds, as in ``2015-01-29T09:21:55.523Z``."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def read_json_body() -> dict:
    """Parse an optional JSON object body; anything else is Graph's 400 ``invalidRequest``."""
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise GraphError(400, "Unable to read JSON request payload.", code="BadRequest")
    if not isinstance(body, dict):
        raise GraphError(400, "The request body must be a JSON object.", code="BadRequest")
    return body
