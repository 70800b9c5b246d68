"""App-only tokens: one MSAL `ConfidentialClientApplication` per client, its cache reused."""

from __future__ import annotations

import functools
import threading

import msal
import requests

from .errors import GraphAuthError, GraphUnavailable
from .settings import SCOPES, GraphSettings


class _PinnedCASession(requests.Session):
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace a session's own CA bundle
    (they are set on many servers); a configured GRAPH_CA_BUNDLE must win over them."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.verify
        return settings


def _token_http(ca_bundle: str | None) -> requests.Session:
    """MSAL's HTTP session: our CA bundle when one is configured, and timeouts on every call
    (what MSAL itself does with its `verify` and `timeout` arguments)."""
    session = _PinnedCASession() if ca_bundle else requests.Session()
    session.verify = ca_bundle or True
    session.request = functools.partial(session.request, timeout=(5, 30))
    return session


class Tokens:
    """App-only tokens from MSAL's cache, renewed by MSAL near expiry or by us after a 401."""

    def __init__(self, settings: GraphSettings):
        self._settings = settings
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def _msal(self) -> msal.ConfidentialClientApplication:
        with self._lock:  # built once; building it fetches the OpenID configuration
            if self._app is None:
                s = self._settings
                try:
                    self._app = msal.ConfidentialClientApplication(
                        s.client_id,
                        client_credential=s.client_secret,
                        authority=f"{s.authority_host}/{s.tenant_id}",
                        instance_discovery=False,
                        http_client=_token_http(s.ca_bundle),
                    )
                except ValueError as exc:  # the authority refused discovery (e.g. unknown tenant)
                    raise GraphAuthError(None, "invalid_authority", str(exc)) from exc
                except requests.RequestException as exc:
                    raise GraphUnavailable(None, "authority_unreachable", str(exc)) from exc
            return self._app

    def get(self) -> str:
        try:
            result = self._msal().acquire_token_for_client(scopes=SCOPES)
        except requests.RequestException as exc:  # 5xx or no connection to the token endpoint
            raise GraphUnavailable(None, "token_endpoint_unavailable", str(exc)) from exc
        if "access_token" not in result:
            raise GraphAuthError(None, result.get("error", "no_token"), result.get("error_description", ""))
        return result["access_token"]

    def forget(self) -> None:
        self._msal().remove_tokens_for_client()
