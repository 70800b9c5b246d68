"""Off-request processing of an asset's current version: metadata, thumbnail and preview.

Images (Pillow, HEIC through pillow-heif): dimensions after EXIF orientation. Videos (PyAV,
which bundles FFmpeg): dimensions as displayed (after the rotation phones record), duration,
frame rate, codec and a poster frame. PDFs
(pypdfium2): page count and the first page. Every kind gets a small thumbnail for the grid and
a medium preview for the detail page (WebP, under `MEDIA_ROOT/derived/<asset id>/`, named by
version so a rerun overwrites the same files). `process` runs twice harmlessly: an asset that
has settled, or whose file was replaced meanwhile, is left to the message of its version.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps

from app.extensions import db
from app.models import MediaAsset, MediaKind, MediaStatus
from app.storage import media_root, transfers
from app.search import schedule_media_sync

DecompressionBomb = Image.DecompressionBombError
THUMB_SIZE, PREVIEW_SIZE = 320, 1280
pdfium_lock = threading.Lock()  # PDFium is not thread-safe; the worker runs threads


@dataclass
class Extracted:
    picture: Image.Image  # what the thumbnail and the preview are made from
    width: int | None = None
    height: int | None = None
    duration_s: Decimal | None = None
    frame_rate: Decimal | None = None
    video_codec: str | None = None
    page_count: int | None = None


@functools.cache
def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


def open_image(path: Path) -> Image.Image:
    _register_heif()
    return Image.open(path)


def image_size(path: Path) -> tuple[int, int]:
    """From the header alone; raises `DecompressionBomb` for absurd sizes."""
    with open_image(path) as im:
        return im.size


def _image(path: Path) -> Extracted:
    limit = current_app.config["MEDIA_MAX_IMAGE_PIXELS"]
    with open_image(path) as im:
        if im.width * im.height > limit:
            raise ValueError(f"{im.width}x{im.height} pixels is over the limit of {limit}")
        width, height = im.size
        if im.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated a quarter turn
            width, height = height, width
        im.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))  # JPEG: decode at a reduced scale
        picture = ImageOps.exif_transpose(im)
        picture.load()
    return Extracted(picture, width, height)


def _video(path: Path) -> Extracted:
    import av

    with av.open(str(path)) as container:
        stream = next(iter(container.streams.video), None)
        if stream is None:
            raise ValueError("the file has no video stream")
        duration = container.duration / av.time_base if container.duration else None
        if duration and stream.time_base:  # a poster a little way in, past fades from black
            container.seek(int(min(1.0, duration / 10) / stream.time_base), stream=stream)
        frame = next(container.decode(stream), None)
        if frame is None:
            raise ValueError("no frame could be decoded")
        rate = stream.average_rate or stream.guessed_rate
        width, height = stream.codec_context.width, stream.codec_context.height
        turn = round(frame.rotation or 0)  # a phone's portrait video: degrees counterclockwise
        if turn % 180:
            width, height = height, width
        return Extracted(
            frame.to_image().rotate(turn, expand=True) if turn else frame.to_image(),
            width,
            height,
            Decimal(str(round(duration, 3))) if duration else None,
            Decimal(str(round(float(rate), 3))) if rate else None,
            stream.codec_context.name,
        )


def _pdf(path: Path) -> Extracted:
    import pypdfium2 as pdfium

    with pdfium_lock:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if len(pdf) == 0:
                raise ValueError("the PDF has no pages")
            page = pdf[0]
            width, height = page.get_size()
            picture = page.render(scale=PREVIEW_SIZE / max(width, height, 1)).to_pil()
            page.close()
            return Extracted(picture, page_count=len(pdf))
        finally:
            pdf.close()


EXTRACTORS = {MediaKind.IMAGE: _image, MediaKind.VIDEO: _video, MediaKind.DOCUMENT: _pdf}


def _save(picture: Image.Image, size: int, path: Path) -> None:
    copy = picture.copy()
    copy.thumbnail((size, size))
    if copy.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in copy.getbands() or "transparency" in copy.info
        copy = copy.convert("RGBA" if has_alpha else "RGB")
    tmp = path.with_name(path.name + ".tmp")
    copy.save(tmp, "WEBP", quality=80)
    os.replace(tmp, path)


def _derive(picture: Image.Image, folder: Path, version: int) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for label, size in (("thumb", THUMB_SIZE), ("preview", PREVIEW_SIZE)):
        path = folder / f"v{version}-{label}.webp"
        _save(picture, size, path)
        names.append(str(path.relative_to(media_root())))
    return names[0], names[1]


def _reason(exc: Exception, path: Path | None) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if path is not None:
        text = text.replace(str(path), "file")  # no server paths in what users read
    return re.sub(r"\s+", " ", text)[:500]


def process(asset_id: int) -> None:
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status is not MediaStatus.PROCESSING:
        return
    version, backend, kind = asset.version, asset.storage_backend, asset.kind
    db.session.rollback()  # hold no transaction while decoding
    folder, path, failure = media_root() / "derived" / str(asset_id), None, None
    try:
        with transfers.current_file(asset_id, version, backend) as path:  # staged while it uploads
            found = EXTRACTORS[kind](path)
        thumb, preview = _derive(found.picture, folder, version)
    except Exception as exc:  # whatever a decoder raises about this file: recorded, not retried
        failure = _reason(exc, path)
    asset = db.session.get(MediaAsset, asset_id, with_for_update=True, populate_existing=True)
    if asset is None or asset.version != version or asset.status is not MediaStatus.PROCESSING:
        return
    if failure:
        asset.status, asset.failure_reason = MediaStatus.FAILED, failure
        return
    asset.width, asset.height, asset.duration_s = found.width, found.height, found.duration_s
    asset.frame_rate, asset.video_codec, asset.page_count = found.frame_rate, found.video_codec, found.page_count
    asset.thumb_path, asset.preview_path = thumb, preview
    # Ready once stored too: a version still uploading is made ready by its upload's end.
    asset.status = MediaStatus.PROCESSING if transfers.pending(asset) else MediaStatus.READY
    asset.failure_reason = None
    schedule_media_sync(db.session(), [asset.id])
    for old in folder.glob("v*"):
        if not old.name.startswith(f"v{version}-"):
            old.unlink(missing_ok=True)
