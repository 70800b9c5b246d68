"""File bytes on disk, and the pre-authenticated loopback URLs that serve them.

Content never sits whole in memory: request bodies are copied to disk in 1 MiB reads (a
benchmark pushes 1 GiB through an upload session), and downloads are streamed by Werkzeug's
``send_file``, which also answers ``Range`` requests with 206 or 416.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from flask import Blueprint, abort, current_app, request, send_file
from werkzeug.exceptions import ClientDisconnected

from .quickxor import QuickXorHash
from .wire import GraphError

READ_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    """One stored file version. ``key`` is unguessable: it is what pre-authenticates its URL."""

    key: str
    path: Path
    size: int
    quick_xor_hash: str


class IncompleteBody(Exception):
    """The client sent fewer bytes than its ``Content-Length`` announced (dropped connection)."""


class BlobStore:
    """Files under ``storage_dir`` (or a temporary directory removed by ``close``). The tree
    lives in memory, so files left by an earlier run are orphans and are removed at start."""

    def __init__(self, storage_dir: Path | None):
        self._owned = storage_dir is None
        self.root = Path(tempfile.mkdtemp(prefix="graph-emulator-")) if storage_dir is None else Path(storage_dir)
        self.blob_dir = self.root / "blobs"
        self.session_dir = self.root / "sessions"
        for directory in (self.blob_dir, self.session_dir):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        self._paths: dict[str, Path] = {}

    def new_key(self) -> str:
        return secrets.token_urlsafe(24)

    def receive(self, stream: BinaryIO, length: int) -> Blob:
        """Store a whole request body as a new blob (simple upload)."""
        key = self.new_key()
        path = self.blob_dir / key
        hasher = QuickXorHash()
        try:
            with path.open("wb") as out:
                copy_exactly(stream, out, length, hasher)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self.adopt(key, path, length, hasher)

    def adopt(self, key: str, path: Path, size: int, hasher: QuickXorHash) -> Blob:
        """Register a finished file (e.g. a completed upload session) as a blob, without copying."""
        final = self.blob_dir / key
        if path != final:
            path.replace(final)
        self._paths[key] = final
        return Blob(key=key, path=final, size=size, quick_xor_hash=hasher.b64digest())

    def path_of(self, key: str) -> Path | None:
        return self._paths.get(key)

    def discard(self, blob: Blob) -> None:
        self._paths.pop(blob.key, None)
        blob.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)


def copy_exactly(stream: BinaryIO, out: BinaryIO, length: int, hasher: QuickXorHash) -> None:
    """Copy ``length`` bytes from a request body to ``out``, hashing as they pass."""
    buffer = memoryview(bytearray(min(READ_SIZE, length)))
    remaining = length
    while remaining:
        try:
            count = stream.readinto(buffer[: min(READ_SIZE, remaining)])
        except (ClientDisconnected, OSError):
            count = 0
        if not count:
            raise IncompleteBody(f"body ended {remaining} bytes short of Content-Length")
        piece = buffer[:count]
        out.write(piece)
        hasher.update(piece)
        remaining -= count


def blob_url(base_url: str, blob: Blob, file_name: str) -> str:
    """The ``Location`` of a download: no bearer token needed, as with SharePoint's tempauth."""
    return f"{base_url}_blob/{blob.key}/{quote(file_name)}"


bp = Blueprint("blobs", __name__)


@bp.before_request
def refuse_bearer_tokens():
    """Download URLs are pre-authenticated: a bearer token sent here is a leaked secret.
    (httpx drops it by itself when following the cross-origin 302 from ``/content``.)"""
    if "Authorization" in request.headers:
        raise GraphError(401, "Do not send an Authorization header to a download URL.", code="unauthenticated")


@bp.get("/_blob/<key>/<path:file_name>")
def download(key: str, file_name: str):
    """Serve a blob with ``Range`` support; a deleted item's URL stops working (404)."""
    path = current_app.extensions["graph_emulator"].blobs.path_of(key)
    if path is None or not path.exists():
        abort(404)
    return send_file(path, as_attachment=True, download_name=file_name, conditional=True, max_age=0)
