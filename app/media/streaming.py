"""HTTP responses that stream one stored version, with single byte ranges (video seeking).

Shared by the public signed links and the signed-in file route. A single satisfiable range gets
206 with `Content-Range`, an unsatisfiable one 416 with `Content-Range: bytes */size`; several
ranges, or an `If-Range` that no longer matches, get the whole file (RFC 9110 allows both).
"""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, abort, request

from app.media.sniff import SNIFF_BYTES, Refused, sniff
from app.models import MediaAsset
from app.storage import get_storage


def _disposition(name: str) -> str:
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = fallback.replace('"', "").replace("\\", "") or "file"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _mime(asset: MediaAsset, version: str) -> str:
    if version == asset.storage_version:
        return asset.mime
    head = b"".join(get_storage().read(asset.storage_item_id, version, 0, SNIFF_BYTES - 1))
    try:  # an older version may have been another type of the same kind
        return sniff(head).mime
    except Refused:
        return "application/octet-stream"


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


def version_response(asset: MediaAsset, version: str, *, cache_control: str | None = None) -> Response:
    storage = get_storage()
    stored = next((v for v in storage.versions(asset.storage_item_id) if v.id == version), None)
    if stored is None:
        abort(404)
    etag = f"{asset.id}-{version}"
    headers = {"Content-Type": _mime(asset, version), "Accept-Ranges": "bytes", "ETag": f'"{etag}"',
               "X-Content-Type-Options": "nosniff", "Content-Disposition": _disposition(asset.filename)}
    if cache_control:
        headers["Cache-Control"] = cache_control
    span = _wanted_range(stored.size, etag)
    if span is None:
        headers["Content-Length"] = str(stored.size)
        return Response(storage.read(asset.storage_item_id, version), 200, headers, direct_passthrough=True)
    start, stop = span
    headers.update({"Content-Range": f"bytes {start}-{stop - 1}/{stored.size}",
                    "Content-Length": str(stop - start)})
    return Response(storage.read(asset.storage_item_id, version, start, stop - 1), 206, headers,
                    direct_passthrough=True)
