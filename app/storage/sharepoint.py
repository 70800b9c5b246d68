"""SharePoint through Microsoft Graph: one driveItem per asset, SharePoint's own versions.

An object (`ref`) is a driveItem id in the configured folder of the library; its versions are
SharePoint's (`"1.0"`, `"2.0"`...), so replacing the file uploads to the same item (addressed
by id, conflictBehavior `replace`) and SharePoint keeps the old bytes. New files are named by the caller (`<asset id>-<filename>`,
unique per asset) and sent with conflictBehavior `fail`: when a first attempt committed the
file but died before the database heard of it, the retry meets the name, finds the item and
adopts it if it holds the same bytes (same size, then the same SHA-256 once downloaded: this
happens rarely, and a file someone else put there must not pass for ours), rather than
uploading a second copy.

Files the CMS makes from an asset (renditions, app/renditions/) are stored by `put_derived` in
the subfolder `renditions` of the configured folder: the team browsing the library's folder
sees its own files only, and the sweeper lists that subfolder too (app/media/sweeper.py).
Their names are the CMS's own (`rendition-<id>-<network>.<ext>`), so a same-named file there is
an earlier attempt's and is replaced (a new version of that item).

Graph errors become the protocol's: `StorageError` when the object or version does not exist
or the service refuses for good, `StorageUnavailable` when trying later may work.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from app.integrations.graph import GraphClient, GraphConflict, GraphError, GraphNotFound, UploadSession, client_for
from app.models import StorageBackend
from app.storage import StorageError, StorageUnavailable, StoredVersion


DERIVED_FOLDER = "renditions"


def derived_client(client: GraphClient) -> GraphClient:
    """The client of the subfolder where derived files (renditions) are stored."""
    settings = client.settings
    return client_for(replace(settings, folder=f"{settings.folder}/{DERIVED_FOLDER}".lstrip("/")))


@dataclass(frozen=True)
class Uploaded:
    version: StoredVersion
    web_url: str | None  # the item in SharePoint's own interface


def _storage_error(exc: GraphError) -> StorageError:
    return (StorageUnavailable if exc.retryable else StorageError)(str(exc))


class SharePointStorage:
    backend = StorageBackend.SHAREPOINT
    deferred = True

    def __init__(self, client: GraphClient, scratch: Path):
        self.client = client
        self.scratch = scratch  # where `local_file` downloads to

    def put(self, source: Path, *, name: str, ref: str | None = None) -> StoredVersion:
        """The source file is left in place: the caller removes it once the new version is
        recorded (until then it is the only copy the CMS can resume from)."""
        return self.upload(source, name=name, ref=ref).version

    def put_derived(self, source: Path, *, name: str) -> StoredVersion:
        """Store a file made from an asset (a rendition) in the `renditions` subfolder,
        replacing a same-named file left there by an attempt that died before recording it."""
        try:
            item = derived_client(self.client).upload(source, name=name, conflict="replace")
            return self._versions(item["id"])[0]
        except GraphError as exc:
            raise _storage_error(exc) from exc

    def upload(
        self,
        source: Path,
        *,
        name: str,
        ref: str | None = None,
        resume: UploadSession | None = None,
        on_progress: Callable[[UploadSession], None] | None = None,
    ) -> Uploaded:
        """`put` that resumes a recorded upload session and reports each step of a new one."""
        try:
            try:
                item = self.client.upload(
                    source,
                    name=None if ref else name,
                    item_id=ref,
                    conflict="replace" if ref else "fail",
                    resume=resume,
                    on_progress=on_progress,
                )
            except GraphConflict:
                item = self.client.item_by_name(name)
                if not self._holds(item, source):
                    raise StorageError(f"another file named {name!r} is already in the SharePoint folder")
            current = self._versions(item["id"])[0]
        except GraphError as exc:
            raise _storage_error(exc) from exc
        return Uploaded(current, item.get("webUrl"))

    def _holds(self, item: dict, source: Path) -> bool:
        if item.get("size") != source.stat().st_size:
            return False
        theirs, ours = hashlib.sha256(), hashlib.sha256()
        for chunk in self.client.download(item["id"]):
            theirs.update(chunk)
        with source.open("rb") as file:
            while chunk := file.read(1024 * 1024):
                ours.update(chunk)
        return theirs.digest() == ours.digest()

    def read(self, ref: str, version: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            try:
                return self.client.download(ref, version, start, end)
            except GraphNotFound:
                # SharePoint may serve the current version only from the item itself.
                if self._versions(ref)[0].id != version:
                    raise
                return self.client.download(ref, None, start, end)
        except GraphError as exc:
            raise _storage_error(exc) from exc

    @contextmanager
    def local_file(self, ref: str, version: str):
        self.scratch.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix="download-")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self.read(ref, version):
                    out.write(chunk)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def versions(self, ref: str) -> list[StoredVersion]:
        try:
            return self._versions(ref)
        except GraphError as exc:
            raise _storage_error(exc) from exc

    def _versions(self, ref: str) -> list[StoredVersion]:
        found = self.client.versions(ref)
        return [
            StoredVersion(
                ref=ref,
                id=v["id"],
                size=v["size"],
                current=i == 0,
                modified_at=datetime.fromisoformat(v["lastModifiedDateTime"].replace("Z", "+00:00")),
            )
            for i, v in enumerate(found)
        ]

    def share_link(self, ref: str) -> str | None:
        try:
            return self.client.create_link(ref)
        except GraphError as exc:
            raise _storage_error(exc) from exc

    def delete(self, ref: str) -> None:
        try:
            self.client.delete(ref)
        except GraphNotFound:
            pass
        except GraphError as exc:
            raise _storage_error(exc) from exc
