"""`/m/r/<token>`: a rendition's signed, expiring public link (what the publication payload
carries for images and videos). Like `/m/<token>` (app/media/public.py): no login, 404 for a
forged or unknown token, 410 once expired, single byte ranges for video players."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, Response

from app.media import links
from app.media.streaming import _read_stored, ranged_response
from app.security import public
from app.storage import get_storage

bp = Blueprint("rendition_links", __name__)


@bp.get("/m/r/<token>")
@public
def serve(token):
    try:
        rendition = links.resolve_rendition(token)
    except links.LinkExpired:
        return Response("This link has expired.\n", 410, mimetype="text/plain")
    except links.LinkInvalid:
        return Response("Not found.\n", 404, mimetype="text/plain")
    storage = get_storage(rendition.storage_backend)
    size, etag = rendition.size_bytes, f"r{rendition.id}-{rendition.storage_version}"
    read = partial(_read_stored, storage, rendition.storage_item_id, rendition.storage_version)
    headers = {"Content-Type": rendition.mime, "Accept-Ranges": "bytes", "ETag": f'"{etag}"',
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    return ranged_response(read, size, etag, headers)
