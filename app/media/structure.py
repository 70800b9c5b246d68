"""Where a file's own structure says it ends, walked over its bytes (headers only, nothing decoded).

A decoder stops at the image's end marker and never looks further, so a JPEG, PNG or GIF with
an HTML page or a script after its end (a polyglot) decodes as well as the image alone; the
walk finds that end from the format's own framing and `ends()` compares it with the file's:

- JPEG (ITU T.81 annex B): marker segments, entropy-coded data up to the next marker, EOI.
  A multi-picture file (CIPA DC-007 "MPO": an APP2 `MPF` segment in the first picture) is a
  chain of complete JPEGs, each walked the same way; what phones append after it and declare
  (`app.media.trailers`) belongs to the file too;
- PNG (ISO/IEC 15948 §5): length, type, data and CRC-32 of every chunk (checked), up to IEND;
- GIF (GIF89a §§17-27): blocks and their sub-blocks up to the trailer `;`;
- WebP (RIFF): the RIFF size;
- HEIC, MP4 and QuickTime (ISO/IEC 14496-12 §4.2): top-level boxes, whose sizes must tile
  the file (a last box of size 0 runs to its end);
- WebM (Matroska/EBML, RFC 8794): the EBML header then the Segment (an unknown size runs
  to the end of the file).

`ends()` raises `Damaged` when the structure breaks off before its end (a truncated file, or
another format behind the magic bytes) and `Trailing` when bytes follow its end. Zero bytes
after the end are tolerated (some cameras pad their files); nothing else is.
"""

from __future__ import annotations

import mmap
import zlib
from pathlib import Path

from app.media import trailers

MAX_ZERO_PADDING = 64 * 1024


class Damaged(Exception):
    """The structure stops before its end or is not the format it claims to be."""


class Trailing(Exception):
    """The structure ends before the file does: something is appended."""


def ends(path: Path, mime: str) -> None:
    walker = WALKERS.get(mime)
    if walker is None:
        return
    with open(path, "rb") as handle:
        if not _size(handle):
            raise Damaged("empty")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                end = walker(data)
            except (IndexError, ValueError) as exc:  # a length or offset pointing outside the file
                raise Damaged(str(exc)) from exc
            if end > len(data):
                raise Damaged("the structure runs past the end of the file")
            rest = len(data) - end
            if rest and (rest > MAX_ZERO_PADDING or data[end:].count(0) != rest):
                raise Trailing(f"{rest} bytes after the end")


def _size(handle) -> int:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    return size


def _u16(data, at: int) -> int:
    if at + 2 > len(data):
        raise IndexError("cut short")
    return int.from_bytes(data[at : at + 2], "big")


def _u32(data, at: int, order: str = "big") -> int:
    if at + 4 > len(data):
        raise IndexError("cut short")
    return int.from_bytes(data[at : at + 4], order)


# -- JPEG ------------------------------------------------------------------------------------

SOI, EOI, SOS, APP2 = 0xD8, 0xD9, 0xDA, 0xE2
STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length


def _jpeg(data) -> int:
    end, multi = _one_jpeg(data, 0)
    while multi:  # the further pictures of an MPO follow, each complete
        start = end
        while start < len(data) and data[start] == 0:
            start += 1
        if start >= len(data) or data[start : start + 2] != b"\xff\xd8":
            break
        end, _ = _one_jpeg(data, start)
    return trailers.end(data, end, iso=_iso) if end < len(data) else end


def _one_jpeg(data, start: int) -> tuple[int, bool]:
    """(the offset after this picture's EOI, whether it declares an MPO chain)."""
    if data[start : start + 2] != b"\xff\xd8":
        raise Damaged("no SOI")
    pos, multi = start + 2, False
    while True:
        if data[pos] != 0xFF:
            raise Damaged(f"no marker at {pos}")
        while data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos + 1]
        if marker == EOI:
            return pos + 2, multi
        if marker in STANDALONE:
            pos += 2
            continue
        if marker in (SOI, 0x00):
            raise Damaged(f"unexpected marker {marker:#x} at {pos}")
        length = _u16(data, pos + 2)
        if length < 2:
            raise Damaged("segment length")
        if marker == APP2 and data[pos + 4 : pos + 8] == b"MPF\x00":
            multi = True
        pos += 2 + length
        if marker == SOS:
            pos = _entropy_end(data, pos)


def _entropy_end(data, pos: int) -> int:
    """The offset of the first marker after entropy-coded data (0xFF00 is a stuffed byte)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise Damaged("the scan data never ends")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


# -- PNG -------------------------------------------------------------------------------------


def _png(data) -> int:
    pos = 8
    while True:
        length, kind = _u32(data, pos), bytes(data[pos + 4 : pos + 8])
        if length > 0x7FFFFFFF or not kind.isalpha():
            raise Damaged(f"chunk at {pos}")
        body_end = pos + 8 + length
        if _u32(data, body_end) != _crc32(data, pos + 4, body_end):
            raise Damaged(f"CRC of {kind!r} at {pos}")
        pos = body_end + 4
        if kind == b"IEND":
            return pos


def _crc32(data, start: int, end: int) -> int:
    crc = 0
    for at in range(start, end, 1 << 20):  # in slices: one IDAT may hold the whole image
        crc = zlib.crc32(data[at : min(at + (1 << 20), end)], crc)
    return crc


# -- GIF -------------------------------------------------------------------------------------


def _gif(data) -> int:
    pos = 13 + _colour_table(data[10])
    while True:
        block = data[pos]
        if block == 0x3B:  # trailer
            return pos + 1
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor, local colour table, LZW code size, sub-blocks
            pos = _sub_blocks(data, pos + 10 + _colour_table(data[pos + 9]) + 1)
        else:
            raise Damaged(f"block {block:#x} at {pos}")


def _colour_table(flags: int) -> int:
    return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def _sub_blocks(data, pos: int) -> int:
    while True:
        size = data[pos]
        pos += 1 + size
        if not size:
            return pos


# -- RIFF (WebP) -----------------------------------------------------------------------------


def _riff(data) -> int:
    size = _u32(data, 4, "little")
    return 8 + size + (size & 1)


# -- ISO base media file format (HEIC, MP4, QuickTime) ---------------------------------------

# The boxes found at the top level of these files (ISO/IEC 14496-12, 23008-12, QuickTime).
TOP_BOXES = {
    b"ftyp",
    b"styp",
    b"moov",
    b"mdat",
    b"meta",
    b"free",
    b"skip",
    b"wide",
    b"pnot",
    b"uuid",
    b"moof",
    b"mfra",
    b"sidx",
    b"ssix",
    b"prft",
    b"emsg",
    b"pdin",
    b"udta",
    b"idat",
    b"iinf",
}


def _iso(data, pos: int = 0) -> int:
    while pos + 8 <= len(data):
        size, kind = _u32(data, pos), data[pos + 4 : pos + 8]
        if kind not in TOP_BOXES:
            if pos:
                return pos  # something else follows the last box
            raise Damaged("no box at the start")
        if size == 0:  # the last box, to the end of the file
            return len(data)
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            if size < 16:
                raise Damaged(f"box size at {pos}")
        elif size < 8:
            raise Damaged(f"box size at {pos}")
        if pos + size > len(data):
            raise Damaged(f"box at {pos} runs past the end of the file")
        pos += size
    return pos


# -- EBML (WebM) -----------------------------------------------------------------------------

EBML_HEADER, SEGMENT = 0x1A45DFA3, 0x18538067
TOP_LEVEL = {EBML_HEADER, SEGMENT, 0xEC, 0xBF}  # also Void and CRC-32 elements


def _vint(data, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, offset after it, whether every value bit is 1: an unknown size)."""
    first = data[pos]
    length = 9 - first.bit_length() if first else 9
    if length > 8:
        raise Damaged(f"variable-length integer at {pos}")
    value = int.from_bytes(data[pos : pos + length], "big")
    bits = 7 * length
    payload = value & ((1 << bits) - 1)
    return (value if keep_marker else payload), pos + length, payload == (1 << bits) - 1


def _ebml(data) -> int:
    pos, seen_segment = 0, False
    while pos < len(data):
        element, pos_size, _ = _vint(data, pos, keep_marker=True)
        if element not in TOP_LEVEL:
            if seen_segment:
                return pos  # what follows the Segment is not Matroska
            raise Damaged(f"element {element:#x} at {pos}")
        size, pos, unknown = _vint(data, pos_size, keep_marker=False)
        if element == SEGMENT:
            seen_segment = True
            if unknown:
                return len(data)
        pos += size
    return pos


WALKERS = {
    "image/jpeg": _jpeg,
    "image/png": _png,
    "image/gif": _gif,
    "image/webp": _riff,
    "image/heic": _iso,
    "image/heif": _iso,
    "video/mp4": _iso,
    "video/quicktime": _iso,
    "video/webm": _ebml,
}
