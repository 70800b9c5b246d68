"""The deep check of a received file, before the upload answers success.

The first bytes (`app.media.sniff`) say what a file claims to be; this says whether the whole
file is that and nothing else, so a truncated picture, an image with a script appended (a
polyglot), a magic number in front of HTML or SVG, or a PDF that runs code never gets a row
or a stored copy. `check(path, found)` raises `Refused` (422, the reason in the user's
language) otherwise:

- images: the pixel count from the header first (decompression bombs are never decoded), then
  Pillow (pillow-heif for HEIC) decodes every frame completely, then the structure must end
  where the file ends (`app.media.structure`). A JPEG is decoded at 1/8 scale: the whole
  entropy-coded stream is still read (a cut is still found), in 1/64 of the memory;
- videos: PyAV (FFmpeg) must open it as the sniffed container and find a video stream, the
  first frames must decode, and the container's top-level structure must end where the file
  ends. Only the first packets are read, so a 2 GiB video costs what a small one does; PyAV
  runs in a child process (`app.media.video_probe`), so the web worker never loads FFmpeg;
- PDFs: see `app.media.pdf_check`.

What each check accepts and refuses, and the public sources of the formats: docs/uploads.md.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from flask import current_app
from flask_babel import format_decimal, lazy_gettext as _l
from PIL import Image, ImageSequence

from app.media import pdf_check, processing, structure, video_probe
from app.media.sniff import FileType, Refused
from app.models import MediaKind

VIDEO_PROBE = Path(video_probe.__file__)
# The child's decoding stops after video_probe.MAX_SECONDS; this bounds its start and the rest
VIDEO_PROBE_TIMEOUT_S = video_probe.MAX_SECONDS + 40
PILLOW_FORMATS = {
    "image/jpeg": {"JPEG", "MPO"},
    "image/png": {"PNG"},
    "image/gif": {"GIF"},
    "image/webp": {"WEBP"},
    "image/heic": {"HEIF"},
    "image/heif": {"HEIF"},
}
FFMPEG_FORMATS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}
# Decoding a large image takes hundreds of MiB: one at a time per web process keeps the
# memory of several simultaneous uploads to that of one.
_decoding = threading.BoundedSemaphore(1)


def damaged(label: str) -> Refused:
    return Refused(_l("The %(label)s file is damaged or incomplete: it cannot be read to the end.", label=label), 422)


def check(path: Path, found: FileType) -> None:
    if found.kind is MediaKind.IMAGE:
        _pixels(path)
        with _decoding:
            _decode_image(path, found)
        _ends(path, found)
    elif found.kind is MediaKind.VIDEO:
        _decode_video(path, found)
        _ends(path, found)
    else:
        try:
            pdf_check.check(path)
        except structure.Damaged:
            raise damaged(found.label) from None


def _pixels(path: Path) -> None:
    """Refuse decompression bombs from the header alone (nothing is decoded here)."""
    limit = current_app.config["MEDIA_MAX_IMAGE_PIXELS"]
    try:
        width, height = processing.image_size(path)
        if width * height <= limit:
            return
    except processing.DecompressionBomb:  # so many pixels that Pillow will not even say how many
        pass
    except Exception:  # an unreadable header: the decoding below says it is damaged
        return
    raise Refused(
        _l(
            "The image has too many pixels: the limit is %(limit)s million.",
            limit=format_decimal(limit / 1e6, format="#,##0.#"),
        ),
        422,
    )


def _ends(path: Path, found: FileType) -> None:
    try:
        structure.ends(path, found.mime)
    except structure.Damaged:
        raise damaged(found.label) from None
    except structure.Trailing:
        raise Refused(
            _l(
                "Other data follows the end of the %(label)s content: files that can hide other content are refused.",
                label=found.label,
            ),
            422,
        ) from None


def _decode_image(path: Path, found: FileType) -> None:
    try:
        with processing.open_image(path) as im:
            if im.format not in PILLOW_FORMATS[found.mime]:
                raise ValueError(f"{im.format} behind the {found.label} magic")
            for frame in ImageSequence.Iterator(im):
                if im.format == "JPEG":  # (an MPO's next pictures are not found again after a draft)
                    frame.draft(frame.mode, (1, 1))  # the smallest scale libjpeg decodes to
                frame.load()
    except Image.DecompressionBombError:
        raise Refused(
            _l(
                "The image has too many pixels: the limit is %(limit)s million.",
                limit=format_decimal(current_app.config["MEDIA_MAX_IMAGE_PIXELS"] / 1e6, format="#,##0.#"),
            ),
            422,
        ) from None
    except Exception:  # whatever a decoder raises about these bytes
        raise damaged(found.label) from None


def _decode_video(path: Path, found: FileType) -> None:
    """PyAV in a child process (`python -I`: only the standard library and the installed
    packages, nothing of the app's folder on its path); its one-word answer, or a crash or a
    timeout (counted as damaged), decides."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(VIDEO_PROBE), str(path), FFMPEG_FORMATS[found.mime]],
            capture_output=True,
            text=True,
            timeout=VIDEO_PROBE_TIMEOUT_S,
        )
        answer = done.stdout.strip() if done.returncode == 0 else "damaged"
    except subprocess.TimeoutExpired:
        answer = "damaged"
    if answer == "no_stream":
        raise Refused(
            _l("The file has no video stream: only videos are accepted as %(label)s.", label=found.label), 422
        )
    if answer == "no_frames":
        raise Refused(
            _l("No picture of the video could be decoded: the file is damaged or uses an unknown codec."), 422
        )
    if answer != "ok":
        raise damaged(found.label)
