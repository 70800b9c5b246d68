"""HTTP responses that stream one stored version, with single byte ranges (video seeking).

Shared by the public signed links and the signed-in file route. A single satisfiable range gets
206 with `Content-Range`, an unsatisfiable one 416 with `Content-Range: bytes */size`; several
ranges, or an `If-Range` that no longer matches, get the whole file (RFC 9110 allows both).
A version still waiting for its remote backend is served from its staged file; any other from
the backend that stored the asset, whichever backend new files go to now.
"""

from __future__ import annotations

import os
import unicodedata
from functools import partial
from urllib.parse import quote

from flask import Response, abort, request

from app.media.sniff import SNIFF_BYTES, Refused, sniff
from app.models import MediaAsset
from app.storage.local import read_open
from app.storage import StorageError, StorageUnavailable, get_storage, transfers


def _disposition(name: str) -> str:
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = fallback.replace('"', "").replace("\\", "") or "file"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _mime(storage, asset: MediaAsset, version: str) -> str:
    if _is_current(asset, version):
        return asset.mime
    head = b"".join(storage.read(asset.storage_item_id, version, 0, SNIFF_BYTES - 1))
    try:  # an older version may have been another type of the same kind
        return sniff(head).mime
    except Refused:
        return "application/octet-stream"


def _is_current(asset: MediaAsset, version: str) -> bool:
    """The stored current version, whose size and type the asset row already knows."""
    return version == asset.storage_version and not transfers.pending(asset)


def _stored_size(storage, asset: MediaAsset, version: str) -> int | None:
    if _is_current(asset, version):
        return asset.size_bytes  # no listing (a Graph call) for every range a video player asks
    return next((v.size for v in storage.versions(asset.storage_item_id) if v.id == version), None)


def _wanted_range(size: int, etag: str):
    """(start, stop) to serve, None for the whole file; aborts with 416 when unsatisfiable."""
    ranges = request.range
    if ranges is None or len(ranges.ranges) != 1:
        return None
    if request.if_range.etag is not None and request.if_range.etag != etag:
        return None
    if request.if_range.date is not None:
        return None  # we give no Last-Modified, so a date cannot match
    span = ranges.range_for_length(size)
    if span is None:
        abort(Response(status=416, headers={"Content-Range": f"bytes */{size}"}))
    return span


def version_response(asset: MediaAsset, version: str | None, *, cache_control: str | None = None) -> Response:
    """Serve one version: a staged file from local disk while it waits for its remote backend,
    else from the backend that stored the asset (SharePoint: Graph's download, with the range)."""
    staged = transfers.open_staged(asset, version)
    if staged is not None:
        size, mime, read = os.fstat(staged.fileno()).st_size, asset.mime, partial(read_open, staged)
    else:
        version = transfers.stored_version(asset, version)
        if version is None or asset.storage_item_id is None:
            abort(404)
        storage = get_storage(asset.storage_backend)
        try:
            size = _stored_size(storage, asset, version)
            if size is None:
                abort(404)
            mime = _mime(storage, asset, version)
        except StorageUnavailable:
            abort(503)
        except StorageError:
            abort(404)
        read = partial(_read_stored, storage, asset.storage_item_id, version)
    etag = f"{asset.id}-{version}"
    headers = {
        "Content-Type": mime,
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _disposition(asset.filename),
    }
    if cache_control:
        headers["Cache-Control"] = cache_control
    return ranged_response(read, size, etag, headers)


def ranged_response(read, size: int, etag: str, headers: dict) -> Response:
    """The whole file (200) or the single range asked for (206); `read(start, end)` streams."""
    span = _wanted_range(size, etag)
    if span is None:
        headers["Content-Length"] = str(size)
        return Response(read(), 200, headers, direct_passthrough=True)
    start, stop = span
    headers.update({"Content-Range": f"bytes {start}-{stop - 1}/{size}", "Content-Length": str(stop - start)})
    return Response(read(start, stop - 1), 206, headers, direct_passthrough=True)


def _read_stored(storage, ref: str, version: str, start: int = 0, end: int | None = None):
    """The backend's stream, opened before the response starts (its errors become statuses)."""
    try:
        return storage.read(ref, version, start, end)
    except StorageUnavailable:
        abort(503)
    except StorageError:
        abort(404)
