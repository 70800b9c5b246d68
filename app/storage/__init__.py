"""Where original media files live, behind one small protocol.

A backend stores *objects* (one per media asset) that keep their *versions*: replacing an
asset's file adds a version and the old bytes stay readable (a kept copy on local disk, a
SharePoint version for Graph). The backend names its objects (`ref`: a folder name on local
disk, a driveItem id in SharePoint) and their versions (`"1"`, `"2"`... locally, `"1.0"`,
`"2.0"`... in SharePoint); the media library records both on the asset and asks for bytes by
(ref, version), so a signed link made for an approved version keeps serving that version.

Every method may be slow on a remote backend. Today the upload request calls `put` itself,
which on local disk is a rename of the streamed temporary file; the SharePoint backend will be
written to by an actor from that local file instead (Graph calls never run in a web request).

Previews and thumbnails are not stored here: they are derived files the media library keeps on
local disk next to the originals (`MEDIA_ROOT/derived`).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Protocol

from flask import current_app

from app.models import StorageBackend


class StorageError(RuntimeError):
    """The object or version does not exist, or the backend refused the operation."""


@dataclass(frozen=True)
class StoredVersion:
    ref: str                # the object
    id: str                 # the version, as the backend names it
    size: int
    modified_at: datetime
    current: bool


class Storage(Protocol):
    backend: StorageBackend

    def put(self, source: Path, *, name: str, ref: str | None = None) -> StoredVersion:
        """Store `source` (moved in, not copied, when the backend can) as a new object named
        `name`, or as the new current version of `ref`."""

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


def get_storage() -> Storage:
    """The backend named by `STORAGE_BACKEND` for the current app."""
    name = current_app.config["STORAGE_BACKEND"]
    if name == StorageBackend.LOCAL.value:
        from app.storage.local import LocalStorage

        return LocalStorage(media_root() / "objects")
    raise StorageError(f"storage backend {name!r} is not available in this version")
