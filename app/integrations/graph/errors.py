"""What Graph's answers mean: one exception per kind of failure, built from the response."""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone

import httpx


class GraphError(Exception):
    """A refused or failed call. `code`/`inner_code` are Graph's (branch on them, not on the
    message); `retryable` says whether trying again later may succeed."""

    retryable = False

    def __init__(
        self,
        status: int | None,
        code: str,
        message: str,
        *,
        inner_code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(f"{status or 'no answer'} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.inner_code, self.retry_after = inner_code, retry_after


class GraphAuthError(GraphError):
    """No token (bad secret, unknown tenant) or a token Graph refuses (401 twice, 403)."""


class GraphNotFound(GraphError):
    """404: the item, version or upload session does not exist (or no longer)."""


class GraphConflict(GraphError):
    """409 `nameAlreadyExists` or 412 `resourceModified`."""


class GraphResync(GraphError):
    """410 Gone from `delta`: the service forgot the token (`resyncChangesApplyDifferences` or
    `resyncChangesUploadDifferences`). The caller enumerates the drive again from `location`,
    comparing every item with what it knows, since changes in between were not reported."""

    location: str | None = None


class GraphThrottled(GraphError):
    """429, or SharePoint's 503, still answered after every retry."""

    retryable = True


class GraphUnavailable(GraphError):
    """Connection errors and 5xx still failing after every retry."""

    retryable = True


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


ERRORS = {
    401: GraphAuthError,
    403: GraphAuthError,
    404: GraphNotFound,
    409: GraphConflict,
    410: GraphResync,
    412: GraphConflict,
    429: GraphThrottled,
    503: GraphThrottled,
}


def error_from(response: httpx.Response) -> GraphError:
    response.read()  # a streamed download's error body
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    if not isinstance(error, dict):  # Entra's shape on a token-less path: {"error": "invalid_client"}
        error = {"code": str(error)}
    inner = error.get("innerError") or error.get("innererror") or {}
    status = response.status_code
    kind = ERRORS.get(status, GraphUnavailable if status >= 500 else GraphError)
    response.close()
    found = kind(
        status,
        error.get("code") or response.reason_phrase,
        error.get("message", ""),
        inner_code=inner.get("code"),
        retry_after=retry_after(response),
    )
    if isinstance(found, GraphResync):
        found.location = response.headers.get("Location")
    return found
