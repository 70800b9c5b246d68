"""Upload sessions: where a large file's fragments wait, on disk, until the last one arrives.

A session's bytes are one partial file under ``storage/sessions``. Its expiry moves forward with
every accepted fragment; once passed, the session answers 404 as if it never existed and its
file is reclaimed lazily, as SharePoint does.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .blobs import BlobStore
from .quickxor import QuickXorHash
from .wire import GraphError, iso_millis


@dataclass
class UploadSession:
    id: str
    path: Path
    expires_at: float
    name: str
    parent_id: str | None  # a new file: its folder and name...
    item_id: str | None  # ...or the existing file whose content it replaces
    conflict: str
    defer_commit: bool
    if_match: str | None
    description: str | None
    declared_size: int | None
    total: int | None = None  # fixed by the first fragment's Content-Range
    received: int = 0
    hasher: QuickXorHash = field(default_factory=QuickXorHash)
    # Held while a fragment streams to disk, so two PUTs to one session cannot interleave.
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def complete(self) -> bool:
        return self.total is not None and self.received == self.total

    def next_expected_ranges(self) -> list[str]:
        return [] if self.complete else [f"{self.received}-"]


class UploadSessions:
    def __init__(self, blobs: BlobStore, clock: Callable[[], float], ttl_s: float):
        self._blobs = blobs
        self._clock = clock
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._sessions: dict[str, UploadSession] = {}

    def open(self, **details) -> UploadSession:
        """Start a session; ``details`` are the UploadSession fields naming its destination."""
        self.reclaim_expired()
        session_id = secrets.token_urlsafe(32)
        path = self._blobs.session_dir / session_id
        path.touch()
        session = UploadSession(id=session_id, path=path, expires_at=self._clock() + self._ttl_s, **details)
        with self._lock:
            self._sessions[session_id] = session
        return session

    def live(self, session_id: str) -> UploadSession:
        """The session, or 404 once it is cancelled, committed, expired or never existed."""
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise GraphError(404, "The upload session was not found.", inner_code="uploadSessionNotFound")
        if self._clock() >= session.expires_at:
            self._discard_if_idle(session)
            raise GraphError(404, "The upload session has expired.", inner_code="uploadSessionNotFound")
        return session

    def ensure_live(self, session: UploadSession) -> None:
        """Re-check a session whose lock the caller holds (it may have expired meanwhile)."""
        with self._lock:
            registered = self._sessions.get(session.id) is session
        if registered and self._clock() < session.expires_at:
            return
        self.discard(session)
        raise GraphError(404, "The upload session has expired.", inner_code="uploadSessionNotFound")

    def extend(self, session: UploadSession) -> None:
        session.expires_at = self._clock() + self._ttl_s

    def discard(self, session: UploadSession) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)
        session.path.unlink(missing_ok=True)

    def forget(self, session: UploadSession) -> None:
        """Drop a committed session whose file now belongs to a blob."""
        with self._lock:
            self._sessions.pop(session.id, None)

    def expire(self, upload_url: str | None = None) -> int:
        """Force expiry of the session behind ``upload_url`` (its id also works), or of all;
        returns how many sessions were affected."""
        session_id = upload_url.rstrip("/").rsplit("/", 1)[-1] if upload_url else None
        with self._lock:
            targets = [s for s in self._sessions.values() if session_id in (None, s.id)]
        for session in targets:
            session.expires_at = float("-inf")
        return len(targets)

    def reclaim_expired(self) -> None:
        now = self._clock()
        with self._lock:
            expired = [s for s in self._sessions.values() if now >= s.expires_at]
        for session in expired:
            self._discard_if_idle(session)

    def _discard_if_idle(self, session: UploadSession) -> None:
        """Reclaim a session unless a fragment is streaming into it right now (that request
        will find the session expired when it finishes, and answer 404 itself)."""
        if session.lock.acquire(blocking=False):
            try:
                self.discard(session)
            finally:
                session.lock.release()

    def snapshot(self) -> list[dict]:
        with self._lock:
            sessions = list(self._sessions.values())
        return [
            {
                "id": s.id,
                "name": s.name,
                "received": s.received,
                "total": s.total,
                "expirationDateTime": iso_millis(s.expires_at),
                "defer_commit": s.defer_commit,
            }
            for s in sessions
        ]
