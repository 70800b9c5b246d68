"""Entra ID for one app registration: OpenID discovery, client-credentials tokens, bearer checks.

MSAL Python fetches ``{authority}/v2.0/.well-known/openid-configuration`` and then POSTs the
form to its ``token_endpoint`` (secret in the body; HTTP Basic is accepted too). Errors use
Entra's body (``error``, ``AADSTS`` codes) so the client meets the dicts MSAL really returns.
"""

from __future__ import annotations

import base64
import hmac
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote_plus

from flask import Blueprint, request

from .state import current_emulator
from .wire import GraphError, json_response

GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")

bp = Blueprint("auth", __name__)


class AadError(Exception):
    """An Entra ID error: ``{"error", "error_description", "error_codes", ...}``."""

    def __init__(self, status: int, error: str, aadsts: int, description: str):
        super().__init__(description)
        self.status, self.error, self.aadsts, self.description = status, error, aadsts, description

    def to_response(self):
        now = datetime.now(timezone.utc)
        trace_id = str(uuid.uuid4())
        correlation_id = request.headers.get("client-request-id", str(uuid.uuid4()))
        return json_response(
            {
                "error": self.error,
                "error_description": f"AADSTS{self.aadsts}: {self.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} "
                f"Timestamp: {now:%Y-%m-%d %H:%M:%SZ}",
                "error_codes": [self.aadsts],
                "timestamp": f"{now:%Y-%m-%d %H:%M:%SZ}",
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"https://login.microsoftonline.com/error?code={self.aadsts}",
            },
            self.status,
            content_type="application/json; charset=utf-8",
        )


def _known_tenant(tenant: str) -> bool:
    config = current_emulator().config
    return tenant.lower() in (config.tenant_id.lower(), config.tenant_domain.lower())


@bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
def openid_configuration(tenant: str):
    """Endpoints name the tenant GUID even when asked by domain name, as Entra does."""
    if not _known_tenant(tenant):
        raise AadError(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
    base = request.host_url.rstrip("/") + "/" + current_emulator().config.tenant_id
    return json_response(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{request.host_url}{current_emulator().config.tenant_id}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        },
        content_type="application/json; charset=utf-8",
    )


@bp.get("/<tenant>/discovery/v2.0/keys")
def signing_keys(tenant: str):
    """Listed by discovery as OIDC requires; empty because the tokens are opaque."""
    if not _known_tenant(tenant):
        raise AadError(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
    return json_response({"keys": []}, content_type="application/json; charset=utf-8")


@bp.post("/<tenant>/oauth2/v2.0/token")
def token(tenant: str):
    emulator = current_emulator()
    config = emulator.config
    if not _known_tenant(tenant):
        raise AadError(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
    form = request.form
    client_id, secrets_given = _client_credentials()
    for name, value in (("grant_type", form.get("grant_type")), ("client_id", client_id), ("scope", form.get("scope"))):
        if not value:
            raise AadError(
                400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'."
            )
    if form["grant_type"] != "client_credentials":
        raise AadError(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type. This emulator only issues "
            "app-only tokens (client_credentials).",
        )
    if client_id != config.client_id:
        raise AadError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory.",
        )
    if not secrets_given:
        raise AadError(
            401,
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        )
    if not all(hmac.compare_digest(given, config.client_secret) for given in secrets_given):
        raise AadError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request "
            "is the client secret value, not the client secret ID.",
        )
    _check_scope(form["scope"])
    emulator.counters.add("tokens_issued")
    return json_response(
        {
            "token_type": "Bearer",
            "expires_in": config.token_lifetime_s,
            "ext_expires_in": config.token_lifetime_s,
            "access_token": emulator.tokens.issue(),
        },
        content_type="application/json; charset=utf-8",
    )


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        raise AadError(401, "invalid_client", 7000215, "Malformed HTTP Basic credentials.")
    return unquote_plus(user), unquote_plus(password)


def _client_credentials() -> tuple[str, list[str]]:
    """The client id and every secret presented (body and/or Basic); all must be right."""
    form = request.form
    given = [form["client_secret"]] if form.get("client_secret") else []
    basic = _basic_credentials()
    client_id = form.get("client_id") or (basic[0] if basic else "")
    if basic:
        if basic[0] != client_id:
            raise AadError(
                401, "invalid_client", 7000215, "The client id in the Authorization header differs from the body."
            )
        given.append(basic[1])
    return client_id, given


def _check_scope(scope: str) -> None:
    """App-only flows take exactly one ``<resource>/.default`` scope, for a known resource."""
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise AadError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential "
            "flows must have a scope value with /.default suffixed to the resource "
            "identifier (application ID URI).",
        )
    resource = scopes[0][: -len("/.default")]
    own_origin = request.host_url.rstrip("/")
    if resource not in GRAPH_RESOURCES and resource != own_origin:
        raise AadError(
            400, "invalid_resource", 500011, f"The resource principal named {resource} was not found in the tenant."
        )


def check_bearer() -> None:
    """Every ``/v1.0`` call needs a live token issued here, else Graph's 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token_value = header.partition(" ")
    if scheme.lower() != "bearer" or not token_value.strip():
        raise _unauthenticated("Access token is empty.")
    problem = current_emulator().tokens.problem_with(token_value.strip())
    if problem:
        raise _unauthenticated(problem)


def _unauthenticated(message: str) -> GraphError:
    return GraphError(
        401,
        message,
        code="InvalidAuthenticationToken",
        headers={
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com'
            '/common/oauth2/authorize", client_id="00000003-0000-0000-c000-'
            '000000000000"'
        },
    )
