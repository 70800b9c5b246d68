"""Uploads: one PUT for a small file, an upload session in chunks for a larger one.

A fragment is sent once, never blindly again: after a failed fragment the session says where it
stands (`nextExpectedRanges`), so no byte is sent twice, and a session that has expired (404)
is replaced by a new one starting from zero. `Uploads` is a part of `GraphClient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

from .errors import GraphConflict, GraphError, GraphNotFound, GraphUnavailable
from .settings import CHUNK_TIMEOUT, CONFLICT_BEHAVIORS, MiB


@dataclass(frozen=True)
class UploadSession:
    """What a caller records to resume an upload: the pre-authenticated URL, when it lapses,
    and the first byte the service still expects."""

    url: str
    expires_at: datetime | None
    next_offset: int


class Uploads:
    """The upload half of `GraphClient` (which provides `_send`, `_json`, addressing, settings)."""

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

    def upload(
        self,
        source: Path,
        *,
        name: str | None = None,
        item_id: str | None = None,
        conflict: str = "fail",
        resume: UploadSession | None = None,
        on_progress: Callable[[UploadSession], None] | None = None,
    ) -> dict:
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

    def upload_small(
        self, source: Path, *, name: str | None = None, item_id: str | None = None, conflict: str = "fail"
    ) -> dict:
        target = self._item(item_id) if item_id else self._by_name(name)
        return self._json(
            "PUT",
            f"{target}/content",
            params={"@microsoft.graph.conflictBehavior": conflict},
            content=source.read_bytes(),
            headers={"Content-Type": "application/octet-stream"},
            idempotent=conflict == "replace" or item_id is not None,
        )

    def create_session(
        self, *, name: str | None = None, item_id: str | None = None, conflict: str = "fail"
    ) -> UploadSession:
        target = self._item(item_id) if item_id else self._by_name(name)
        item = {"@microsoft.graph.conflictBehavior": conflict} | ({} if item_id else {"name": name})
        body = self._json(
            "POST", f"{target}/createUploadSession", json={"item": item, "deferCommit": False}, idempotent=True
        )  # an unused session just lapses
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

    def _send_chunks(
        self, source: Path, total: int, session: UploadSession, report: Callable[[UploadSession], None]
    ) -> dict:
        setbacks = 0
        with source.open("rb") as file:
            while True:
                start = session.next_offset
                length = min(self.settings.chunk_bytes, total - start)
                headers = {
                    "Content-Range": f"bytes {start}-{start + length - 1}/{total}",
                    "Content-Length": str(length),
                    "Content-Type": "application/octet-stream",
                }
                try:
                    response = self._send(
                        "PUT",
                        session.url,
                        authed=False,
                        retry=False,
                        headers=headers,
                        content=_pieces(file, start, length),
                        timeout=CHUNK_TIMEOUT,
                    )
                except GraphError as exc:
                    # A fragment the service may or may not have kept: ask rather than resend.
                    # 500 is not retried here (the call is not idempotent): the caller's retry
                    # resumes from what it recorded, after asking the session the same way.
                    resync = exc.status == 416 or (exc.retryable and exc.status != 500)
                    setbacks += 1
                    if not resync or setbacks >= self.settings.attempts:
                        raise
                    if exc.status != 416:
                        self._sleep(
                            min(exc.retry_after, self.settings.retry_max_wait_s)
                            if exc.retry_after is not None
                            else self._backoff(setbacks)
                        )
                    session = self.session_status(session.url)
                    continue
                if response.status_code in (200, 201):
                    return response.json()
                session = _session(session.url, response.json())
                report(session)


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


def _session(url: str, body: dict) -> UploadSession:
    ranges = body.get("nextExpectedRanges") or ["0-"]
    expires = body.get("expirationDateTime")
    return UploadSession(
        url=url,
        next_offset=int(ranges[0].split("-", 1)[0]),
        expires_at=datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires else None,
    )
