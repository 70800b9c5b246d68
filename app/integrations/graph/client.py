"""The Graph client: addressing, the one way out (retries, Retry-After, 401 renewal), items,
versions, links, downloads and the change feed; uploads are in `uploads.py`."""

from __future__ import annotations

import random
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import quote

import httpx

from .errors import GraphError, GraphNotFound, GraphResync, GraphUnavailable, error_from, retry_after
from .settings import TIMEOUT, GraphSettings
from .tokens import Tokens
from .uploads import Uploads


@dataclass(frozen=True)
class DeltaPage:
    """One page of the drive's change feed: driveItems (deleted ones carry `"deleted": {}`),
    and either the link to the next page or, on the last one, the link to resume from later."""

    items: list[dict]
    next_link: str | None
    delta_link: str | None


_clients: dict[GraphSettings, "GraphClient"] = {}
_clients_lock = threading.Lock()


def client_for(settings: GraphSettings) -> "GraphClient":
    """The process's client for these settings (its MSAL token cache and connection pool)."""
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = GraphClient(settings)
        return client


class GraphClient(Uploads):
    def __init__(self, settings: GraphSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep  # tests record the waits instead of sleeping through them
        self._tokens = Tokens(settings)
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
    def _send(
        self,
        method: str,
        url: str,
        *,
        authed: bool = True,
        retry: bool = True,
        idempotent: bool | None = None,
        stream: bool = False,
        headers: dict | None = None,
        **kwargs,
    ) -> httpx.Response:
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
                wait = retry_after(response)
                response.close()
                self._sleep(min(wait, self.settings.retry_max_wait_s) if wait is not None else self._backoff(attempt))
                continue
            raise error_from(response)

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

    def download(
        self, item_id: str, version: str | None = None, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        """Bytes `start`..`end` (inclusive) of the current content or of one version. The
        redirect and the download are opened before returning, so a missing item raises here
        and not half-way through a response; the bytes then stream as they are read."""
        path = (
            f"{self._item(item_id)}/versions/{quote(version, safe='')}/content"
            if version
            else f"{self._item(item_id)}/content"
        )
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
        return DeltaPage(
            items=body.get("value", []), next_link=body.get("@odata.nextLink"), delta_link=body.get("@odata.deltaLink")
        )


def _origin(url: str) -> tuple:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes(256 * 1024)
    finally:
        response.close()
