"""Where original media files live, behind one small protocol.

A backend stores *objects* (one per media asset) that keep their *versions*: replacing an
asset's file adds a version and the old bytes stay readable (a kept copy on local disk, a
SharePoint version for Graph). The backend names its objects (`ref`: a folder name on local
disk, a driveItem id in SharePoint) and their versions (`"1"`, `"2"`... locally, `"1.0"`,
`"2.0"`... in SharePoint); the media library records both on the asset and asks for bytes by
(ref, version), so a signed link made for an approved version keeps serving that version.

Every method may be slow on a remote backend. For local disk the upload request calls `put`
itself (a rename of the streamed temporary file). A remote backend is `deferred`: the request
leaves the file in a staging area and the `store_media` actor uploads it from there, resuming
an interrupted upload (app/storage/transfers.py), since Graph uploads never run in a request.

An asset is always read from the backend that stored it (`get_storage(asset.storage_backend)`),
so assets stored on local disk stay readable after `STORAGE_BACKEND` moves to SharePoint.

Previews and thumbnails are not stored here: they are derived files the media library keeps on
local disk next to the originals (`MEDIA_ROOT/derived`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Iterator, Protocol

from flask import current_app, has_request_context

from app.models import StorageBackend


class StorageError(RuntimeError):
    """The object or version does not exist, or the backend refused the operation."""


class StorageUnavailable(StorageError):
    """The backend did not answer, or asked us to slow down: the same call may work later."""


@dataclass(frozen=True)
class StoredVersion:
    ref: str  # the object
    id: str  # the version, as the backend names it
    size: int
    modified_at: datetime
    current: bool


class Storage(Protocol):
    backend: StorageBackend
    deferred: bool  # True: `put` is slow and remote, and runs in an actor, never in a request

    def put(self, source: Path, *, name: str, ref: str | None = None) -> StoredVersion:
        """Store `source` (moved in, not copied, when the backend can) as a new object named
        `name`, or as the new current version of `ref`."""

    def put_derived(self, source: Path, *, name: str) -> StoredVersion:
        """Store a file the CMS made from an object (a rendition) as a new object named `name`
        (a name of the CMS's own: a same-named earlier one may be replaced). Not one of the
        library's media: SharePoint keeps these in a subfolder (app/storage/sharepoint.py)."""

    def read(self, ref: str, version: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes `start`..`end` (inclusive; `None`: to the end) of one version."""

    def local_file(self, ref: str, version: str) -> AbstractContextManager[Path]:
        """A readable local file with the version's bytes (a download for remote backends)."""

    def versions(self, ref: str) -> list[StoredVersion]:
        """Every kept version, newest first."""

    def share_link(self, ref: str) -> str | None:
        """A link for people to the object in the backend's own interface (SharePoint: an
        organisation view link); None when the backend has no interface of its own."""

    def delete(self, ref: str) -> None:
        """Remove the object with all its versions (no error if it is already gone)."""


def media_root() -> Path:
    configured = current_app.config.get("MEDIA_ROOT")
    return Path(configured) if configured else Path(current_app.instance_path) / "media"


def get_storage(backend: StorageBackend | None = None) -> Storage:
    """The backend that stores new files (`STORAGE_BACKEND`), or the one named, for reading
    and changing the assets it already holds."""
    name = backend.value if backend is not None else current_app.config["STORAGE_BACKEND"]
    if name == StorageBackend.LOCAL.value:
        from app.storage.local import LocalStorage

        return LocalStorage(media_root() / "objects")
    if name == StorageBackend.SHAREPOINT.value:
        from app.integrations.graph import GraphSettings, client_for
        from app.storage.sharepoint import SharePointStorage

        settings = GraphSettings.from_config(current_app.config)
        if has_request_context():  # someone is waiting: one quick retry, never a long Retry-After
            settings = replace(settings, attempts=2, retry_max_wait_s=2.0)
        return SharePointStorage(client_for(settings), media_root() / "tmp")
    raise StorageError(f"storage backend {name!r} is not available in this version")
