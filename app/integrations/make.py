"""Make.com API v2 client: hooks and scenarios (docs/external-apis.md §1), nothing Flask.

Retries follow the client rules of external-apis.md: connection errors, 429, 502, 503 and 504
(plus 500) are retried with `Retry-After` (seconds or HTTP-date, capped at 300 s) or a 1 s ×2
backoff with ±20 % jitter, 5 attempts in all; other 4xx never. Calls that create something
(a hook, a scenario, a clone) are not idempotent: they are re-sent only when the request surely
did not take effect (connection refused, 429, 502, 503); a read timeout, 500 or 504 surfaces as
a retryable error so that the caller repeats its find-by-name check first
(docs/external-apis.md §1.8).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import httpx

from app.integrations import blueprints

ZONES = ("eu1", "eu2", "us1", "us2")
HOOK_TYPE = "gateway-webhook"
IMMEDIATELY = json.dumps({"type": "immediately"})
MAX_ATTEMPTS = 5
RETRY_AFTER_CAP = 300.0
PAGE_SIZE = 100


class MakeError(Exception):
    """A failed Make call; `retryable` says whether trying again later may succeed."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        suberrors: tuple[str, ...] = (),
        retry_after: float | None = None,
    ):
        self.status, self.code, self.message = status, code, message
        self.detail, self.suberrors, self.retry_after = detail, tuple(suberrors), retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"Make {self.status} {self.code}: " if self.status else "Make: "
        text = head + self.message + (f" ({self.detail})" if self.detail else "")
        return text + (f" [{'; '.join(self.suberrors)}]" if self.suberrors else "")


class MakeConfigError(MakeError):
    """The CMS's Make settings are missing or wrong."""


class MakeAuthError(MakeError):
    """401: the token is missing, malformed, revoked or from another zone."""


class MakePermissionError(MakeError):
    """403: the token lacks a scope."""


class MakeNotFound(MakeError):
    """404: the hook, scenario, team or organisation does not exist."""


class MakeValidationError(MakeError):
    """400/422: Make refused the request; `suberrors` say why."""


class MakeRateLimited(MakeError):
    retryable = True


class MakeServerError(MakeError):
    retryable = True


class MakeConnectionError(MakeError):
    """The request got no answer: refused, reset, or a timeout."""

    retryable = True


class MakeTimeout(MakeConnectionError):
    pass


_BY_STATUS = {
    400: MakeValidationError,
    401: MakeAuthError,
    403: MakePermissionError,
    404: MakeNotFound,
    422: MakeValidationError,
    429: MakeRateLimited,
}


@dataclass(frozen=True)
class MakeConfig:
    api_token: str
    team_id: int
    base_url: str
    hook_base_url: str
    organization_id: int | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Mapping) -> "MakeConfig":
        """Build from the `MAKE_*` settings; `MakeConfigError` says what is missing."""
        zone = settings.get("MAKE_ZONE") or "eu1"
        if zone not in ZONES and not settings.get("MAKE_BASE_URL"):
            raise MakeConfigError(f"MAKE_ZONE must be one of {', '.join(ZONES)}, not {zone!r}")
        missing = [name for name in ("MAKE_API_TOKEN", "MAKE_TEAM_ID") if not settings.get(name)]
        if missing:
            raise MakeConfigError(f"{' and '.join(missing)} must be set to reach Make")
        org = settings.get("MAKE_ORGANIZATION_ID")
        try:
            team_id, organization_id = int(settings["MAKE_TEAM_ID"]), int(org) if org else None
        except ValueError:
            raise MakeConfigError("MAKE_TEAM_ID and MAKE_ORGANIZATION_ID must be integers") from None
        return cls(
            api_token=settings["MAKE_API_TOKEN"],
            team_id=team_id,
            base_url=(settings.get("MAKE_BASE_URL") or f"https://{zone}.make.com/api/v2"),
            hook_base_url=(settings.get("MAKE_HOOK_BASE_URL") or f"https://hook.{zone}.make.com"),
            organization_id=organization_id,
        )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds (a number or an HTTP-date), capped at 300 s; None if absent."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        seconds = when - (time.time() if now is None else now)
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def error_from_response(response: httpx.Response) -> MakeError:
    """Map Make's error shape `{detail, message, code, suberrors}` onto an exception."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    cls = _BY_STATUS.get(status) or (MakeServerError if status >= 500 else MakeError)
    suberrors = tuple(
        str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in body.get("suberrors") or ()
    )
    return cls(
        str(body.get("message") or response.reason_phrase or "error"),
        status=status,
        code=str(body.get("code") or f"SC{status}"),
        detail=body.get("detail"),
        suberrors=suberrors,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


class MakeClient:
    """One Make team. Use as a context manager, or call `close()`.

    `sleep` and `rng` are injectable so that tests check the backoff without waiting.
    """

    def __init__(
        self, config: MakeConfig, *, sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None
    ):
        self.config = config
        self._sleep, self._rng = sleep, rng or random.Random()
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            trust_env=False,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            headers={"Authorization": f"Token {config.api_token}", "Accept": "application/json"},
        )

    def __enter__(self) -> "MakeClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- hooks ------------------------------------------------------------------------------
    def find_hook(self, name: str) -> dict | None:
        params = {"teamId": self.config.team_id, "typeName": HOOK_TYPE}
        return self._find("/hooks", "hooks", name, params)

    def create_hook(self, name: str) -> dict:
        body = {
            "name": name,
            "teamId": self.config.team_id,
            "typeName": HOOK_TYPE,
            "method": False,
            "headers": False,
            "stringify": False,
        }
        return self._call("POST", "/hooks", json=body, idempotent=False)["hook"]

    def get_hook(self, hook_id: int) -> dict:
        return self._call("GET", f"/hooks/{hook_id}")["hook"]

    def enable_hook(self, hook_id: int) -> None:
        self._call("POST", f"/hooks/{hook_id}/enable")

    def disable_hook(self, hook_id: int) -> None:
        self._call("POST", f"/hooks/{hook_id}/disable")

    def delete_hook(self, hook_id: int) -> None:
        self._call("DELETE", f"/hooks/{hook_id}", params={"confirmed": "true"})

    def hook_url(self, hook: dict) -> str:
        """Where the CMS posts payloads: the hook's `url`, else the base URL and its udid."""
        return hook.get("url") or f"{self.config.hook_base_url.rstrip('/')}/{hook['udid']}"

    # -- the token, the organisation, the team ---------------------------------------------
    def me(self) -> dict:
        """The user the token belongs to (`GET /users/me` → `authUser`)."""
        return self._call("GET", "/users/me")["authUser"]

    def current_authorization(self) -> dict:
        """How this request was authenticated and the token's scopes: `{"authUsed", "scope"}`."""
        return self._call("GET", "/users/me/current-authorization")["authorization"]

    def get_organization(self, organization_id: int) -> dict:
        return self._call("GET", f"/organizations/{organization_id}")["organization"]

    def get_team(self, team_id: int) -> dict:
        return self._call("GET", f"/teams/{team_id}")["team"]

    # -- connections and the Data Store ------------------------------------------------------
    def find_connection(self, connection_id: int) -> dict | None:
        for connection in self._pages("/connections", "connections", {"teamId": self.config.team_id}):
            if connection.get("id") == connection_id:
                return connection
        return None

    def get_connection(self, connection_id: int) -> dict:
        """One connection; `accountName` is its type (the app it connects, e.g. `linkedin2`)."""
        return self._call("GET", f"/connections/{connection_id}")["connection"]

    def get_data_store(self, data_store_id: int) -> dict:
        return self._call("GET", f"/data-stores/{data_store_id}")["dataStore"]

    def get_data_structure(self, data_structure_id: int) -> dict:
        """A record's fields, `spec: [{"name", "type", ...}]`."""
        return self._call("GET", f"/data-structures/{data_structure_id}")["dataStructure"]

    # -- blueprints ---------------------------------------------------------------------------
    def validate_blueprint(self, blueprint: dict) -> dict:
        """Make's public blueprint validation (`POST /blueprints/validate`, no token): `{"valid",
        "errors": [{"path", "problem", "fix"}]}`. 403 (`MakePermissionError`) when the zone has
        it switched off; 429 is retried like any other call, then `MakeRateLimited`."""
        answer = self._call("POST", "/blueprints/validate", json={"blueprint": blueprint}, authenticated=False)
        if not isinstance(answer.get("valid"), bool):
            raise MakeServerError("the blueprint validation answered without a valid flag")
        return {
            "valid": answer["valid"],
            "errors": [
                {key: str(error.get(key) or "") for key in ("path", "problem", "fix")}
                for error in answer.get("errors") or ()
                if isinstance(error, dict)
            ],
        }

    # -- scenarios --------------------------------------------------------------------------
    def find_scenario(self, name: str) -> dict | None:
        return self._find("/scenarios", "scenarios", name, {"teamId": self.config.team_id})

    def create_scenario(self, blueprint: dict, *, folder_id: int | None = None) -> dict:
        """A new (inactive) scenario from `blueprint`, run on each webhook request."""
        body = {"teamId": self.config.team_id, "blueprint": json.dumps(blueprint), "scheduling": IMMEDIATELY}
        if folder_id is not None:
            body["folderId"] = folder_id
        return self._call("POST", "/scenarios", params={"confirmed": "true"}, json=body, idempotent=False)["scenario"]

    def clone_scenario(
        self, template_id: int, name: str, *, hook_id: int, connection_id: int, blueprint: dict | None = None
    ) -> dict:
        """Clone a template scenario (docs/external-apis.md §1.5b): its webhook and every
        connection it uses are mapped to `hook_id` and `connection_id` (read from `blueprint`,
        the template's, when the caller has it already)."""
        if self.config.organization_id is None:
            raise MakeConfigError("MAKE_ORGANIZATION_ID must be set to clone a template scenario")
        template_hook, connections = blueprints.bindings(blueprint or self.get_blueprint(template_id))
        body = {
            "name": name,
            "teamId": self.config.team_id,
            "states": False,
            "hook": {str(template_hook): hook_id} if template_hook is not None else {},
            "account": {str(conn): connection_id for conn in connections},
            "key": {},
            "device": {},
            "udt": {},
            "datastore": {},
        }
        params = {"organizationId": self.config.organization_id, "confirmed": "true"}
        answer = self._call("POST", f"/scenarios/{template_id}/clone", params=params, json=body, idempotent=False)
        # Public evidence does not settle the envelope: `{"scenario": {...}}` like the other
        # scenario calls, or the bare scenario (one copy of the API reference).
        return answer["scenario"] if isinstance(answer.get("scenario"), dict) else answer

    def get_scenario(self, scenario_id: int) -> dict:
        return self._call("GET", f"/scenarios/{scenario_id}")["scenario"]

    def get_blueprint(self, scenario_id: int) -> dict:
        return self._call("GET", f"/scenarios/{scenario_id}/blueprint")["response"]["blueprint"]

    def update_blueprint(self, scenario_id: int, blueprint: dict) -> dict:
        return self._call(
            "PATCH",
            f"/scenarios/{scenario_id}",
            params={"confirmed": "true"},
            json={"blueprint": json.dumps(blueprint)},
        )["scenario"]

    def start_scenario(self, scenario_id: int) -> dict:
        return self._call("POST", f"/scenarios/{scenario_id}/start")["scenario"]

    def stop_scenario(self, scenario_id: int) -> dict:
        return self._call("POST", f"/scenarios/{scenario_id}/stop")["scenario"]

    def delete_scenario(self, scenario_id: int) -> None:
        self._call("DELETE", f"/scenarios/{scenario_id}")

    # -- transport --------------------------------------------------------------------------
    def _find(self, path: str, key: str, name: str, params: dict) -> dict | None:
        return next((item for item in self._pages(path, key, params) if item.get("name") == name), None)

    def _pages(self, path: str, key: str, params: dict):
        offset = 0
        while True:
            page = self._call(
                "GET", path, params={**params, "pg[offset]": offset, "pg[limit]": PAGE_SIZE, "pg[sortBy]": "id"}
            )
            items = page.get(key) or []
            yield from items
            if len(items) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _call(self, method: str, path: str, *, params=None, json=None, idempotent=True, authenticated=True) -> dict:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                request = self._http.build_request(method, path, params=params, json=json)
                if not authenticated:
                    del request.headers["Authorization"]
                response = self._http.send(request)
            except httpx.TransportError as exc:
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                cls = MakeTimeout if isinstance(exc, httpx.TimeoutException) else MakeConnectionError
                error, resend = cls(f"{type(exc).__name__}: {exc}"), idempotent or unsent
            else:
                if response.is_success:
                    return _json(response)
                error = error_from_response(response)
                resend = response.status_code in (429, 502, 503) or (idempotent and response.status_code in (500, 504))
            if not (error.retryable and resend) or attempt == MAX_ATTEMPTS:
                raise error
            self._sleep(self._backoff(attempt, error.retry_after))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return 2 ** (attempt - 1) * self._rng.uniform(0.8, 1.2)


def _json(response: httpx.Response) -> dict:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise MakeServerError("Make answered with a body that is not a JSON object", status=response.status_code)
    return body
