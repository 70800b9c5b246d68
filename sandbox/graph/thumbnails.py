"""Thumbnails: none for a while after each content change, then a small/medium/large set.

SharePoint renders thumbnails asynchronously, so ``value`` is ``[]`` just after an upload; the
delay (``thumbnail_delay_s``) makes clients prove they poll instead of assuming. Only kinds
SharePoint can render (images, videos, PDFs) ever get thumbnails. The images themselves are
plain grey PNGs of the announced sizes, served without authentication like real ones.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from flask import Blueprint, Response, abort

from .addressing import Target, existing_item
from .representations import mime_type
from .state import current_emulator
from .wire import json_response

SIZES = {"small": 96, "medium": 176, "large": 800}

bp = Blueprint("thumbnails", __name__)


def list_thumbnails(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        item = existing_item(emulator, target)
        ready = (
            not item.is_folder
            and _renderable(item.name)
            and emulator.clock() >= item.content_changed_at + emulator.config.thumbnail_delay_s
        )
        if not ready:
            return json_response({"value": []})
        base = f"{emulator.content_base()}_thumb/{item.id}"
        sets = {
            "id": "0",
            **{name: {"width": px, "height": px, "url": f"{base}/{px}.png"} for name, px in SIZES.items()},
        }
        return json_response({"value": [sets]})


def _renderable(name: str) -> bool:
    mime = mime_type(name)
    return mime.startswith(("image/", "video/")) or mime == "application/pdf"


@bp.get("/_thumb/<item_id>/<int:pixels>.png")
def thumbnail_image(item_id: str, pixels: int):
    emulator = current_emulator()
    with emulator.lock:
        if item_id not in emulator.drive.items or pixels not in SIZES.values():
            abort(404)
    return Response(_grey_png(pixels), content_type="image/png")


@lru_cache(maxsize=len(SIZES))
def _grey_png(pixels: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + b"\xc8\xc8\xc8" * pixels) * pixels  # filter byte + RGB per row
    header = struct.pack(">IIBBBBB", pixels, pixels, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
