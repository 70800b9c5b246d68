"""Receiving files: streamed to a temporary file, checked while they arrive, deduplicated, stored.

Why one raw request body per file (`POST /media/upload`, `Content-Type:
application/octet-stream`, the name percent-encoded in `X-Filename`) rather than a multipart
form: the browser sends each file with its own XMLHttpRequest, which gives a real progress bar
and a cancel button per file for free, and the server reads `request.stream` (the WSGI input,
bounded by `Content-Length` or ended by the server for a chunked body) in 1 MiB chunks straight
into a temporary file. No form parser runs, so nothing buffers the body; the type is known from the first chunk, so the size limit of
that kind is enforced from then on, while streaming, and a body larger than every limit is
refused from its `Content-Length` before a byte is read. A refused upload removes its file.

Once the body is in, `app.media.inspection` checks the whole file (decoded, or its container
parsed) before anything is kept: a file that only starts like an accepted type leaves no row
and no file. A client that stops sending in the middle of a body would hold the server thread
until it gives up: `read_timeout()` ends the upload after `UPLOAD_READ_TIMEOUT_S` without a
byte (408), through the connection's socket, which the development server (`werkzeug.socket`)
and gunicorn (`gunicorn.socket`) put in the WSGI environ; behind another server, the reverse
proxy's body timeout is the only one (see the README).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal, lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import ClientDisconnected

from app import audit
from app.extensions import db
from app.media import inspection
from app.media.display import filesize
from app.media.sniff import SNIFF_BYTES, FileType, Refused, check_name, clean_filename, sniff
from app.models import MediaAsset, MediaKind, MediaStatus
from app.storage import get_storage, media_root, transfers
from app.tasks import by_name, send_after_commit
from app.search import schedule_media_sync

process_media = by_name("process_media")

CHUNK = 1024 * 1024


@dataclass
class Received:
    path: Path
    name: str
    type: FileType
    size: int
    sha256: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def limits() -> dict[str, int]:
    """Bytes allowed per kind (`image`, `video`, `document`)."""
    config = current_app.config
    return {
        MediaKind.IMAGE.value: config["MEDIA_MAX_IMAGE_BYTES"],
        MediaKind.VIDEO.value: config["MEDIA_MAX_VIDEO_BYTES"],
        MediaKind.DOCUMENT.value: config["MEDIA_MAX_DOCUMENT_BYTES"],
    }


def _too_large(limit: int, found: FileType | None = None) -> Refused:
    if found is None:
        return Refused(_l("The file is larger than the largest accepted size (%(limit)s).", limit=filesize(limit)), 413)
    return Refused(_l("%(label)s files are limited to %(limit)s.", label=found.label, limit=filesize(limit)), 413)


def receive(stream: BinaryIO, raw_name: str, declared_length: int | None) -> Received:
    """Stream the body into a temporary file, checking it as it comes; `Refused` otherwise."""
    name = clean_filename(raw_name)
    if declared_length is not None and declared_length > max(limits().values()):
        raise _too_large(max(limits().values()))
    folder = media_root() / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="upload-")
    path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            found, size, digest = _copy(stream, out, name, declared_length)
        if declared_length is not None and size != declared_length:
            raise Refused(INTERRUPTED, 400)
        inspection.check(path, found)
        return Received(path, name, found, size, digest)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _copy(stream, out, name, declared_length):
    head = _read_head(stream)
    found = sniff(head)
    check_name(name, found)
    limit = limits()[found.kind.value]
    if declared_length is not None and declared_length > limit:
        raise _too_large(limit, found)
    digest, size, chunk = hashlib.sha256(), 0, head
    while chunk:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, found)
        digest.update(chunk)
        out.write(chunk)
        chunk = _read(stream, CHUNK)
    return found, size, digest.hexdigest()


def _read_head(stream) -> bytes:
    head = b""
    while len(head) < SNIFF_BYTES:
        chunk = _read(stream, SNIFF_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head


INTERRUPTED = _l("The upload was interrupted before the end of the file.")


def _read(stream, size: int) -> bytes:
    """The next bytes of the body; a stalled or broken connection becomes a `Refused`."""
    try:
        return stream.read(size)
    except (OSError, ClientDisconnected) as exc:  # werkzeug wraps the socket's error, gunicorn does not
        if not _timed_out(exc):
            raise Refused(INTERRUPTED, 400) from None
        seconds = current_app.config["UPLOAD_READ_TIMEOUT_S"]
        raise Refused(
            _l(
                "No data arrived for %(seconds)s seconds: the upload was stopped. Try again.",
                seconds=format_decimal(seconds, format="#,##0.#"),
            ),
            408,
        ) from None


def _timed_out(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def read_timeout(environ):
    """Bound the wait for each piece of the body to `UPLOAD_READ_TIMEOUT_S` (0: no bound)."""
    seconds = current_app.config["UPLOAD_READ_TIMEOUT_S"]
    connection = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if not seconds or connection is None:
        yield
        return
    previous = connection.gettimeout()
    connection.settimeout(seconds)
    try:
        yield
    finally:
        with suppress(OSError):  # closed meanwhile
            connection.settimeout(previous)


def _same_bytes(sha256: str) -> MediaAsset | None:
    return db.session.scalar(sa.select(MediaAsset).where(MediaAsset.sha256 == sha256))


def _flush_or_none(asset: MediaAsset) -> bool:
    """Flush in a savepoint; False when the same bytes were stored at the same moment."""
    try:
        with db.session.begin_nested():
            db.session.add(asset)
            db.session.flush()
        return True
    except IntegrityError:
        return False


def _store(storage, asset: MediaAsset, received: Received) -> None:
    """Local disk takes the file at once; a remote backend gets it from the `store_media`
    actor, which uploads the staged file after the commit (no Graph call in a request)."""
    if storage.deferred:
        transfers.stage(asset, received.path)
        return
    stored = storage.put(received.path, name=received.name, ref=asset.storage_item_id)
    asset.storage_item_id, asset.storage_version = stored.ref, stored.id
    asset.share_url = storage.share_link(stored.ref)


def add_asset(received: Received, user) -> tuple[MediaAsset, bool]:
    """The new asset, or the existing one holding the same bytes (`True`: a duplicate)."""
    try:
        existing = _same_bytes(received.sha256)
        if existing is None:
            storage = get_storage()
            asset = MediaAsset(
                title=received.name.rpartition(".")[0] or received.name,
                filename=received.name,
                mime=received.type.mime,
                kind=received.type.kind,
                size_bytes=received.size,
                sha256=received.sha256,
                storage_backend=storage.backend,
                status=MediaStatus.PROCESSING,
                uploaded_by_id=user.id,
            )
            if _flush_or_none(asset):
                _store(storage, asset, received)
                audit.record(
                    "media.uploaded",
                    asset,
                    actor=user,
                    data={"filename": asset.filename, "size": asset.size_bytes, "sha256": asset.sha256},
                )
                send_after_commit(db.session(), process_media, asset.id)
                schedule_media_sync(db.session(), [asset.id])
                return asset, False
            existing = _same_bytes(received.sha256)  # the same bytes arrived at the same moment
        return existing, True
    finally:
        received.discard()  # moved into the storage, or not needed: no temporary file stays


def replace_file(asset_id: int, received: Received, user) -> MediaAsset:
    """Store `received` as the asset's new current version; the old one stays as a version."""
    try:
        asset = db.session.get(MediaAsset, asset_id, with_for_update=True)  # one replacement at a time
        if asset is None:
            raise Refused(_l("This file was deleted in the meantime."), 404)
        if received.type.kind is not asset.kind:
            raise Refused(_l("The new file must be of the same kind as the one it replaces."), 422)
        holder = _same_bytes(received.sha256)
        if holder is not None:
            raise Refused(_l("These exact bytes are already in the library: “%(title)s”.", title=holder.title), 409)
        asset.filename, asset.mime, asset.size_bytes = received.name, received.type.mime, received.size
        asset.sha256, asset.version = received.sha256, asset.version + 1
        asset.status, asset.failure_reason = MediaStatus.PROCESSING, None
        if not _flush_or_none(asset):
            raise Refused(_l("These exact bytes were just added to the library."), 409)
        _store(get_storage(asset.storage_backend), asset, received)
    except BaseException:
        received.discard()
        raise
    audit.record(
        "media.replaced",
        asset,
        actor=user,
        data={"filename": asset.filename, "version": asset.version, "size": asset.size_bytes},
    )
    # What was approved is what gets published: posts approved with the old file go back to review.
    from app.reviews.service import objects_using_media, reopen_after_change

    reopen_after_change(objects_using_media(asset.id), by=user, reason="media file replaced by a new version")
    send_after_commit(db.session(), process_media, asset.id)
    schedule_media_sync(db.session(), [asset.id])
    return asset
