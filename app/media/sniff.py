"""What a file is, decided from its first bytes (never its name or the browser's header).

`sniff(head)` returns the accepted type or raises `Refused` with the message for the user.
`check_name(name, kind)` refuses a name whose extension contradicts the content (`photo.jpg`
that is a PDF); a name without an extension contradicts nothing. MP4 and QuickTime share the
ISO media file format and cameras name either one `.mov` or `.mp4`, so those two may swap.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.models import MediaKind

SNIFF_BYTES = 64 * 1024  # enough for every signature below, read before anything is kept
ALLOWED_LABEL = "JPEG, PNG, WebP, GIF, HEIC, MP4, MOV, WebM, PDF"


class Refused(Exception):
    """An upload the library will not keep; `message` is for the user, `status` for HTTP."""

    def __init__(self, message, status: int = 415):
        super().__init__(str(message))
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FileType:
    mime: str
    kind: MediaKind
    label: str
    extensions: frozenset[str]


def _type(mime, kind, label, *extensions):
    return FileType(mime, kind, label, frozenset(extensions))


JPEG = _type("image/jpeg", MediaKind.IMAGE, "JPEG", "jpg", "jpeg", "jpe", "jfif")
PNG = _type("image/png", MediaKind.IMAGE, "PNG", "png")
GIF = _type("image/gif", MediaKind.IMAGE, "GIF", "gif")
WEBP = _type("image/webp", MediaKind.IMAGE, "WebP", "webp")
HEIC = _type("image/heic", MediaKind.IMAGE, "HEIC", "heic", "heif", "hif")
HEIF = _type("image/heif", MediaKind.IMAGE, "HEIF", "heif", "heic", "hif")
MP4 = _type("video/mp4", MediaKind.VIDEO, "MP4", "mp4", "m4v", "mov")
MOV = _type("video/quicktime", MediaKind.VIDEO, "QuickTime", "mov", "qt", "mp4")
WEBM = _type("video/webm", MediaKind.VIDEO, "WebM", "webm")
PDF = _type("application/pdf", MediaKind.DOCUMENT, "PDF", "pdf")
TYPES = {t.mime: t for t in (JPEG, PNG, GIF, WEBP, HEIC, HEIF, MP4, MOV, WEBM, PDF)}

HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}
MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4VH",
    b"M4VP",
    b"dash",
    b"mmp4",
    b"f4v ",
}
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
SCRIPT_CARRIER = re.compile(rb"<(svg|html|!doctype\s+html|script|body|head|iframe)[\s>/]", re.I)


def sniff(head: bytes) -> FileType:
    if not head:
        raise Refused(_l("The file is empty."), 400)
    found = _binary(head)
    if found:
        return found
    if SCRIPT_CARRIER.search(head[:4096]):
        raise Refused(_l("SVG and HTML files are refused: they can carry scripts."))
    raise Refused(_l("This type of file is not accepted. Accepted types: %(types)s.", types=ALLOWED_LABEL))


def _binary(head: bytes) -> FileType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if b"%PDF-" in head[:1024]:  # the format allows a little junk before the header
        return PDF
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: WebM, or another Matroska we don't accept
        return WEBM if re.search(rb"\x42\x82[\x80-\xff]webm", head[:256]) else None
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head[4:8] in QUICKTIME_ATOMS:  # old QuickTime files have no ftyp box
        return MOV
    return None


def _iso_media(head: bytes) -> FileType | None:
    size = int.from_bytes(head[:4], "big")
    box = head[8 : min(max(size, 16), 256)]
    major, compatible = box[:4], {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
    brands = {major} | compatible
    if major == b"qt  ":
        return MOV
    if brands & AVIF_BRANDS:
        return None
    if brands & HEIC_BRANDS:
        return HEIC
    if major in HEIF_BRANDS:
        return HEIF
    if major in MP4_BRANDS or (major not in (b"M4A ", b"M4B ") and compatible & MP4_BRANDS):
        return MP4
    return None


def check_name(name: str, found: FileType) -> None:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return
    if extension.lower() not in found.extensions:
        raise Refused(
            _l("The content of “%(name)s” is %(label)s, which contradicts its name.", name=name, label=found.label), 422
        )


def clean_filename(raw: str) -> str:
    """The name to keep and show: the last path segment, printable, at most 200 characters.

    Path separators, control and format characters (including bidirectional overrides that
    disguise an extension) are removed; what is left is never a path anywhere in the CMS.
    """
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(c)[0] == "Z" else c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 200 - len(extension) - 1] + dot + extension) if dot and len(extension) <= 10 else name[:200]
    return name or "file"
