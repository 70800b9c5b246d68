"""Microsoft Graph for one SharePoint document library: MSAL for tokens, httpx for the calls.

Nothing here knows Flask: `GraphSettings.from_config` reads a plain mapping, and the storage
backend (app/storage/sharepoint.py) turns these errors into its own. The rules come from
docs/external-apis.md §2:

- One MSAL `ConfidentialClientApplication` per process and settings (`client_for` keeps the
  client, which keeps the app): its token cache is what saves a token request per call. MSAL
  renews a token itself shortly before it expires; a 401 from Graph (a token revoked or expired
  early) drops the cached tokens and the call is sent once more with a new one.
- Connection errors, 429, 502, 503 and 504 (and 500 on idempotent calls) are retried, waiting
  as `Retry-After` says (seconds or an HTTP date, capped) or else 1 s x2 with ±20 % jitter,
  `attempts` times in all; other errors raise at once, as a `GraphError` subclass.
- Upload URLs and download URLs are pre-authenticated: the bearer token never goes to them.
- Upload session fragments are sent once each, never blindly again: after a failed fragment the
  session says where it stands (`nextExpectedRanges`), so no byte is sent twice, and a session
  that has expired (404) is replaced by a new one starting from zero.
"""
from __future__ import annotations

import email.utils
import functools
import random
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Mapping
from urllib.parse import quote

import httpx
import msal
import requests

MiB = 1024 * 1024
FRAGMENT = 327_680  # Graph's fragment granularity: every chunk but the last is a multiple of it
MAX_FRAGMENT = 60 * MiB
SCOPES = ["https://graph.microsoft.com/.default"]
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CHUNK_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
CONFLICT_BEHAVIORS = ("fail", "replace", "rename")


class GraphError(Exception):
    """A refused or failed call. `code`/`inner_code` are Graph's (branch on them, not on the
    message); `retryable` says whether trying again later may succeed."""
    retryable = False

    def __init__(self, status: int | None, code: str, message: str, *, inner_code: str | None = None,
                 retry_after: float | None = None):
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


@dataclass(frozen=True)
class GraphSettings:
    tenant_id: str
    client_id: str
    client_secret: str
    drive_id: str
    authority_host: str = "https://login.microsoftonline.com"
    base_url: str = "https://graph.microsoft.com/v1.0"
    folder: str = "cms-media"
    ca_bundle: str | None = None
    link_type: str = "view"
    link_scope: str = "organization"
    chunk_bytes: int = 10 * MiB
    simple_upload_max_bytes: int = 4 * MiB
    attempts: int = 5
    retry_max_wait_s: float = 300.0
    backoff_base_s: float = 1.0

    def __post_init__(self):
        if self.chunk_bytes % FRAGMENT or not 0 < self.chunk_bytes < MAX_FRAGMENT:
            raise ValueError(f"the chunk size must be a multiple of {FRAGMENT} bytes under 60 MiB, "
                             f"not {self.chunk_bytes}")
        if not 0 <= self.simple_upload_max_bytes <= 4 * MiB:
            raise ValueError("simple uploads are limited to 4 MiB")

    @classmethod
    def from_config(cls, config: Mapping) -> "GraphSettings":
        missing = [k for k in ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_DRIVE_ID")
                   if not config.get(k)]
        if missing:
            raise ValueError("the SharePoint backend needs " + ", ".join(missing))
        return cls(tenant_id=config["GRAPH_TENANT_ID"], client_id=config["GRAPH_CLIENT_ID"],
                   client_secret=config["GRAPH_CLIENT_SECRET"], drive_id=config["GRAPH_DRIVE_ID"],
                   authority_host=config["AAD_AUTHORITY"].rstrip("/"), base_url=config["GRAPH_BASE_URL"].rstrip("/"),
                   folder=config["GRAPH_FOLDER"].strip("/"), ca_bundle=config.get("GRAPH_CA_BUNDLE"),
                   link_type=config["SHAREPOINT_LINK_TYPE"], link_scope=config["SHAREPOINT_LINK_SCOPE"],
                   chunk_bytes=config["GRAPH_CHUNK_BYTES"],
                   simple_upload_max_bytes=config["GRAPH_SIMPLE_UPLOAD_MAX_BYTES"],
                   retry_max_wait_s=config["GRAPH_RETRY_MAX_WAIT_S"])


@dataclass(frozen=True)
class DeltaPage:
    """One page of the drive's change feed: driveItems (deleted ones carry `"deleted": {}`),
    and either the link to the next page or, on the last one, the link to resume from later."""
    items: list[dict]
    next_link: str | None
    delta_link: str | None


@dataclass(frozen=True)
class UploadSession:
    """What a caller records to resume an upload: the pre-authenticated URL, when it lapses,
    and the first byte the service still expects."""
    url: str
    expires_at: datetime | None
    next_offset: int


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


class _Tokens:
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
                        s.client_id, client_credential=s.client_secret, authority=f"{s.authority_host}/{s.tenant_id}",
                        instance_discovery=False, http_client=_token_http(s.ca_bundle))
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


_clients: dict[GraphSettings, "GraphClient"] = {}
_clients_lock = threading.Lock()


def client_for(settings: GraphSettings) -> "GraphClient":
    """The process's client for these settings (its MSAL token cache and connection pool)."""
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = GraphClient(settings)
        return client


class GraphClient:
    def __init__(self, settings: GraphSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep  # tests record the waits instead of sleeping through them
        self._tokens = _Tokens(settings)
        verify = ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else True
        self._http = httpx.Client(timeout=TIMEOUT, verify=verify, follow_redirects=False)
        self._drive = f"{settings.base_url}/drives/{settings.drive_id}"
        self._folder_ready = False

    def close(self) -> None:
        self._http.close()

    # -- addressing --------------------------------------------------------------------------
    def _by_name(self, name: str) -> str:
        path = "/".join(quote(part, safe="") for part in (*self.settings.folder.split("/"), name) if part)
        return f"{self._drive}/root:/{path}:"

    def _item(self, item_id: str) -> str:
        return f"{self._drive}/items/{quote(item_id, safe='')}"

    # -- the one way out: retries, Retry-After, 401 renewal ----------------------------------
    def _send(self, method: str, url: str, *, authed: bool = True, retry: bool = True,
              idempotent: bool | None = None, stream: bool = False, headers: dict | None = None,
              **kwargs) -> httpx.Response:
        """The response (2xx or 3xx), or the GraphError its status means. With `retry=False`
        a failure raises at once (fragments: the caller asks the session where it stands)."""
        idempotent = method in ("GET", "PUT", "DELETE") if idempotent is None else idempotent
        renewed, attempt = False, 0
        while True:
            attempt += 1
            sent = dict(headers or {})
            if authed:
                sent["Authorization"] = f"Bearer {self._tokens.get()}"
            try:
                response = self._http.send(self._http.build_request(method, url, headers=sent, **kwargs), stream=stream)
            except httpx.TransportError as exc:
                if not retry or attempt >= self.settings.attempts:
                    raise GraphUnavailable(None, type(exc).__name__, str(exc) or "connection failed") from exc
                self._sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status < 400:
                return response
            if status == 401 and authed and not renewed:
                response.close()
                self._tokens.forget()
                renewed, attempt = True, attempt - 1  # the renewal is not one of the attempts
                continue
            retryable = status in (429, 502, 503, 504) or (status == 500 and idempotent)
            if retry and retryable and attempt < self.settings.attempts:
                wait = _retry_after(response)
                response.close()
                self._sleep(min(wait, self.settings.retry_max_wait_s) if wait is not None else self._backoff(attempt))
                continue
            raise _error(response)

    def _backoff(self, attempt: int) -> float:
        return self.settings.backoff_base_s * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)

    def _json(self, method: str, url: str, **kwargs) -> dict:
        return self._send(method, url, **kwargs).json()

    # -- items, versions, links ----------------------------------------------------------------
    def item(self, item_id: str) -> dict:
        return self._json("GET", self._item(item_id))

    def item_by_name(self, name: str) -> dict:
        """The file called `name` in the configured folder."""
        return self._json("GET", self._by_name(name))

    def versions(self, item_id: str) -> list[dict]:
        """Newest first, as Graph lists them (`"2.0"`, `"1.0"`)."""
        return self._json("GET", f"{self._item(item_id)}/versions")["value"]

    def children(self) -> list[dict]:
        """Every item of the configured folder (files and subfolders), all pages followed; none
        while the folder does not exist yet. The bearer token follows only links into Graph."""
        url = f"{self._by_name('')}/children" if self.settings.folder else f"{self._drive}/root/children"
        found = []
        try:
            while url:
                page = self._json("GET", url)
                found += page["value"]
                url = page.get("@odata.nextLink")
                if url and not url.startswith(self.settings.base_url + "/"):
                    raise GraphError(None, "foreignNextLink", f"a next page outside Graph: {url}")
        except GraphNotFound:
            return []
        return found

    def create_link(self, item_id: str) -> str:
        """The sharing link of the configured type and scope (idempotent: the same link again)."""
        body = {"type": self.settings.link_type, "scope": self.settings.link_scope}
        return self._json("POST", f"{self._item(item_id)}/createLink", json=body, idempotent=True)["link"]["webUrl"]

    def delete(self, item_id: str) -> None:
        self._send("DELETE", self._item(item_id))

    def download(self, item_id: str, version: str | None = None, start: int = 0,
                 end: int | None = None) -> Iterator[bytes]:
        """Bytes `start`..`end` (inclusive) of the current content or of one version. The
        redirect and the download are opened before returning, so a missing item raises here
        and not half-way through a response; the bytes then stream as they are read."""
        path = f"{self._item(item_id)}/versions/{quote(version, safe='')}/content" if version else f"{self._item(item_id)}/content"
        redirect = self._send("GET", path)
        location = redirect.headers.get("Location")
        if redirect.status_code != 302 or not location:
            raise GraphError(redirect.status_code, "unexpectedResponse", "a download did not redirect")
        wanted = {} if start == 0 and end is None else {"Range": f"bytes={start}-{'' if end is None else end}"}
        response = self._send("GET", location, authed=False, stream=True, headers=wanted)
        if wanted and response.status_code != 206:
            response.close()
            raise GraphError(response.status_code, "invalidRange", "the range was not honoured")
        return _chunks(response)

    # -- changes -----------------------------------------------------------------------------
    def delta(self, link: str | None = None) -> DeltaPage:
        """The page at `link` (a nextLink or deltaLink from an earlier page, or the `location`
        of a `GraphResync`); without one, the empty first page of `token=latest`, whose
        deltaLink reports changes from now on (no enumeration of the whole drive). A token the
        service no longer knows raises `GraphResync`: restarting is the caller's decision, as
        it must then compare everything it holds. The bearer token goes to Graph's own origin
        only, whatever a link says."""
        if link is None:
            body = self._json("GET", f"{self._drive}/root/delta", params={"token": "latest"})
        elif _origin(link) != _origin(self.settings.base_url):
            raise GraphError(None, "foreignDeltaLink", f"a delta link outside Graph: {link}")
        else:
            try:
                body = self._json("GET", link)
            except GraphResync as exc:
                exc.location = exc.location or f"{self._drive}/root/delta"  # no token: the whole drive
                raise
        return DeltaPage(items=body.get("value", []), next_link=body.get("@odata.nextLink"),
                         delta_link=body.get("@odata.deltaLink"))

    # -- uploads ---------------------------------------------------------------------------
    def ensure_folder(self) -> None:
        """Create the configured folder and its parents, once per client: an upload by path
        does not create missing folders."""
        if self._folder_ready:
            return
        parent, path = f"{self._drive}/root", ""
        for part in filter(None, self.settings.folder.split("/")):
            body = {"name": part, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
            try:
                self._send("POST", f"{parent}/children", json=body, idempotent=True)
            except GraphConflict:
                pass  # there already
            path += "/" + quote(part, safe="")
            parent = f"{self._drive}/root:{path}:"
        self._folder_ready = True

    def upload(self, source: Path, *, name: str | None = None, item_id: str | None = None,
               conflict: str = "fail", resume: UploadSession | None = None,
               on_progress: Callable[[UploadSession], None] | None = None) -> dict:
        """Upload `source` as the file `name` of the folder, or as a new version of `item_id`;
        the driveItem. Small files go in one PUT; larger ones through an upload session,
        resumed from `resume` when it is still alive. `on_progress` hears of the session after
        it opens and after every accepted chunk (to record it; it may raise to stop)."""
        if conflict not in CONFLICT_BEHAVIORS:
            raise ValueError(f"conflict must be one of {CONFLICT_BEHAVIORS}")
        total = source.stat().st_size
        if item_id is None:
            self.ensure_folder()
        if total <= self.settings.simple_upload_max_bytes:
            return self.upload_small(source, name=name, item_id=item_id, conflict=conflict)
        report = on_progress or (lambda session: None)
        session = self.resumed(resume) if resume else None
        for _ in range(3):  # a session that lapses mid-way is replaced; three in a row is an outage
            if session is None:
                session = self.create_session(name=name, item_id=item_id, conflict=conflict)
                report(session)
            try:
                return self._send_chunks(source, total, session, report)
            except GraphNotFound:
                session = None
        raise GraphUnavailable(404, "uploadSessionNotFound", "upload sessions keep expiring")

    def upload_small(self, source: Path, *, name: str | None = None, item_id: str | None = None,
                     conflict: str = "fail") -> dict:
        target = self._item(item_id) if item_id else self._by_name(name)
        return self._json("PUT", f"{target}/content", params={"@microsoft.graph.conflictBehavior": conflict},
                          content=source.read_bytes(), headers={"Content-Type": "application/octet-stream"},
                          idempotent=conflict == "replace" or item_id is not None)

    def create_session(self, *, name: str | None = None, item_id: str | None = None,
                       conflict: str = "fail") -> UploadSession:
        target = self._item(item_id) if item_id else self._by_name(name)
        item = {"@microsoft.graph.conflictBehavior": conflict} | ({} if item_id else {"name": name})
        body = self._json("POST", f"{target}/createUploadSession", json={"item": item, "deferCommit": False},
                          idempotent=True)  # an unused session just lapses
        return _session(body["uploadUrl"], body)

    def session_status(self, url: str) -> UploadSession:
        """Where a session stands; `GraphNotFound` once it has expired or completed."""
        return _session(url, self._json("GET", url, authed=False))

    def resumed(self, recorded: UploadSession) -> UploadSession | None:
        """The recorded session as the service sees it now, or None when it has lapsed."""
        if recorded.expires_at is not None and recorded.expires_at <= datetime.now(timezone.utc):
            return None
        try:
            return self.session_status(recorded.url)
        except GraphNotFound:
            return None

    def cancel_session(self, url: str) -> None:
        try:
            self._send("DELETE", url, authed=False)
        except GraphNotFound:
            pass

    def _send_chunks(self, source: Path, total: int, session: UploadSession,
                     report: Callable[[UploadSession], None]) -> dict:
        setbacks = 0
        with source.open("rb") as file:
            while True:
                start = session.next_offset
                length = min(self.settings.chunk_bytes, total - start)
                headers = {"Content-Range": f"bytes {start}-{start + length - 1}/{total}",
                           "Content-Length": str(length), "Content-Type": "application/octet-stream"}
                try:
                    response = self._send("PUT", session.url, authed=False, retry=False, headers=headers,
                                          content=_pieces(file, start, length), timeout=CHUNK_TIMEOUT)
                except GraphError as exc:
                    # A fragment the service may or may not have kept: ask rather than resend.
                    # 500 is not retried here (the call is not idempotent): the caller's retry
                    # resumes from what it recorded, after asking the session the same way.
                    resync = exc.status == 416 or (exc.retryable and exc.status != 500)
                    setbacks += 1
                    if not resync or setbacks >= self.settings.attempts:
                        raise
                    if exc.status != 416:
                        self._sleep(min(exc.retry_after, self.settings.retry_max_wait_s)
                                    if exc.retry_after is not None else self._backoff(setbacks))
                    session = self.session_status(session.url)
                    continue
                if response.status_code in (200, 201):
                    return response.json()
                session = _session(session.url, response.json())
                report(session)


def _origin(url: str) -> tuple:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _pieces(file, start: int, length: int) -> Iterator[bytes]:
    """A chunk read as it is sent, 1 MiB at a time: a 10 MiB chunk never sits whole in memory
    (with its copies in the HTTP stack, it would cost several times that in a worker)."""
    file.seek(start)
    while length > 0:
        piece = file.read(min(MiB, length))
        if not piece:
            raise GraphError(None, "sourceShrank", "the file ended before the chunk")
        length -= len(piece)
        yield piece


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes(256 * 1024)
    finally:
        response.close()


def _session(url: str, body: dict) -> UploadSession:
    ranges = body.get("nextExpectedRanges") or ["0-"]
    expires = body.get("expirationDateTime")
    return UploadSession(url=url, next_offset=int(ranges[0].split("-", 1)[0]),
                         expires_at=datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires else None)


def _retry_after(response: httpx.Response) -> float | None:
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


ERRORS = {401: GraphAuthError, 403: GraphAuthError, 404: GraphNotFound, 409: GraphConflict, 410: GraphResync,
          412: GraphConflict, 429: GraphThrottled, 503: GraphThrottled}


def _error(response: httpx.Response) -> GraphError:
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
    found = kind(status, error.get("code") or response.reason_phrase, error.get("message", ""),
                 inner_code=inner.get("code"), retry_after=_retry_after(response))
    if isinstance(found, GraphResync):
        found.location = response.headers.get("Location")
    return found
