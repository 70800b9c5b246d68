"""Local disk: one folder per object under `MEDIA_ROOT/objects`, one file per version.

`objects/<ref>/1`, `objects/<ref>/2`...: the highest number is the current version and the
others are the kept copies. Callers serialise the replacements of one object (the media
service locks the asset's row), so numbering needs no lock of its own here.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from app.models import StorageBackend
from app.storage import StorageError, StoredVersion

CHUNK = 256 * 1024
_REF = re.compile(r"^[0-9a-f]{32}$")


class LocalStorage:
    backend = StorageBackend.LOCAL
    deferred = False  # a rename: the upload request stores the file itself

    def __init__(self, root: Path):
        self.root = root

    def _folder(self, ref: str) -> Path:
        if not _REF.match(ref):  # refs are ours; anything else is a bug or an attack
            raise StorageError(f"invalid object reference {ref!r}")
        return self.root / ref

    def _file(self, ref: str, version: str) -> Path:
        if not version.isdigit():
            raise StorageError(f"invalid version {version!r}")
        path = self._folder(ref) / version
        if not path.is_file():
            raise StorageError(f"no version {version} of {ref}")
        return path

    @staticmethod
    def _numbers(folder: Path) -> list[int]:
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []

    def put(self, source: Path, *, name: str, ref: str | None = None) -> StoredVersion:
        ref = ref or uuid.uuid4().hex
        folder = self._folder(ref)
        folder.mkdir(parents=True, exist_ok=True)
        number = (self._numbers(folder) or [0])[-1] + 1
        target = folder / str(number)
        try:
            os.replace(source, target)  # same file system: a rename, no copy
        except OSError:
            shutil.move(str(source), str(target))
        return self._version(ref, target, current=True)

    def put_derived(self, source: Path, *, name: str) -> StoredVersion:
        """A file made from an asset (a rendition): an object of its own, like any other."""
        return self.put(source, name=name)

    def read(self, ref: str, version: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return read_open(self._file(ref, version).open("rb"), start, end)

    @contextmanager
    def local_file(self, ref: str, version: str):
        yield self._file(ref, version)

    def versions(self, ref: str) -> list[StoredVersion]:
        folder = self._folder(ref)
        numbers = self._numbers(folder)
        return [self._version(ref, folder / str(n), current=n == numbers[-1]) for n in reversed(numbers)]

    def share_link(self, ref: str) -> str | None:
        return None  # no interface of its own: the CMS's signed links serve local files

    def delete(self, ref: str) -> None:
        shutil.rmtree(self._folder(ref), ignore_errors=True)

    @staticmethod
    def _version(ref: str, path: Path, *, current: bool) -> StoredVersion:
        stat = path.stat()
        return StoredVersion(
            ref=ref,
            id=path.name,
            size=stat.st_size,
            current=current,
            modified_at=datetime.fromtimestamp(stat.st_mtime, timezone.utc),
        )


def read_open(file, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Stream bytes `start`..`end` (inclusive; `None`: to the end) of an open file, then close it."""
    try:
        file.seek(start)
        remaining = (os.fstat(file.fileno()).st_size if end is None else end + 1) - start
        while remaining > 0:
            chunk = file.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        file.close()
