"""Media test support: real files made on the fly (Pillow, PyAV, pypdfium2) and upload helpers."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from tests.conftest import csrf_token

EN = {"Accept-Language": "en"}


# -- Files -----------------------------------------------------------------------------------


def image(fmt: str, size=(64, 48), color=(200, 40, 40), exif_orientation: int | None = None) -> bytes:
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    picture = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):  # some detail, so the bytes differ by colour and size
        picture.putpixel((x, x % size[1]), (x % 255, 255 - x % 255, 90))
    out = io.BytesIO()
    kwargs = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    picture.save(out, fmt, **kwargs)
    return out.getvalue()


def noisy_jpeg(size=(400, 300)) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "JPEG", quality=95)
    return out.getvalue()


def wide_photo() -> bytes:
    """3000x1000 (3:1, wider than Instagram's 1.91:1): blue, with a red subject near the right edge."""
    picture = Image.new("RGB", (3000, 1000), (30, 60, 200))
    picture.paste((220, 30, 30), (2600, 300, 2900, 700))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def video(
    container: str = "mp4", codec: str = "libx264", size=(64, 48), fps: int = 25, frames: int = 50, rotation: int = 0
) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        if rotation:  # as a phone records a portrait video: landscape frames, a display matrix
            stream.set_display_rotation(rotation)
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (i * 5 % 255, 80, 160)))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return out.getvalue()


def pdf(pages: int = 2) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A JPEG whose header reads fine but whose image data stops halfway (processing fails)."""
    data = noisy_jpeg((200, 150))
    return data[: len(data) // 2]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG announcing `width` x `height` pixels in a few bytes: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>"
AVIF_HEAD = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\0" * 64


# -- Uploads ---------------------------------------------------------------------------------


def upload_headers(client, name: str) -> dict:
    token = csrf_token(client, "/media/")
    return {"X-Filename": quote(name), "X-CSRFToken": token, "Accept": "application/json", **EN}


def upload(client, data: bytes, name: str, url: str = "/media/upload"):
    return client.post(url, data=data, content_type="application/octet-stream", headers=upload_headers(client, name))


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def media_root(app, tmp_path, monkeypatch) -> Path:
    """Each test stores its files in a folder of its own."""
    root = tmp_path / "media"
    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(root))
    return root


@pytest.fixture
def editor(client, auth):
    auth.login("editor")
    return auth
