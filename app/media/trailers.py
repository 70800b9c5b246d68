"""What phones append after a JPEG's end marker, and declare, so that it belongs to the photo.

Exif (CIPA DC-008 §4.5.4) asks readers to bear data recorded after EOI, and two kinds are
common in photos straight from a phone; they are accepted only when their own framing accounts
for every byte up to the end of the file:

- Samsung's SEF trailer (Galaxy phones: capture mode, UTC time, motion photo...), laid out
  as ExifTool reads it (`lib/Image/ExifTool/Samsung.pm`, `ProcessSamsung`): the file ends with
  a directory `SEFH`, version, entry count, then per entry 2 zero bytes, a type, the distance
  back from the directory to the entry's block and the block's size; its length; `SEFT`.
  Every block starts with 2 zero bytes, its type, the length of its name and the name (ASCII);
- a motion photo's video (Google's format, also written by other makers): an MP4 appended
  after the picture, whose length the picture's XMP declares (`GCamera:MicroVideoOffset`, or
  the `Item:Length` of the Container directory's last item); its boxes must tile the rest.

Anything else after EOI (an HTML page, a script, an archive) is still refused, and so is a
trailer block that starts like markup. Sources, and what no real file has confirmed yet:
docs/uploads.md.
"""

from __future__ import annotations

import re

from app.media.sniff import SCRIPT_CARRIER

DECLARED_VIDEO = re.compile(rb'(?:MicroVideoOffset|Item:Length)(?:="|>)(\d{1,12})')
XMP_WINDOW = 1 << 20
NAME = re.compile(rb"[\x21-\x7e]{1,64}")  # the XMP of the picture sits in its first segments


def end(data, jpeg_end: int, *, iso) -> int:
    """The end of what follows `jpeg_end` when it is a known trailer, else `jpeg_end`."""
    if _samsung(data, jpeg_end) or _motion_video(data, jpeg_end, iso):
        return len(data)
    return jpeg_end


def _le32(data, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _samsung(data, start: int) -> bool:
    size = len(data)
    if size - start < 20 or data[size - 4 : size] != b"SEFT":
        return False
    length = _le32(data, size - 8)
    directory = size - 8 - length
    if length < 12 or directory < start or data[directory : directory + 4] != b"SEFH":
        return False
    count = _le32(data, directory + 8)
    if 12 + 12 * count > length:
        return False
    first = 0
    for entry in range(directory + 12, directory + 12 + 12 * count, 12):
        back, block_size = _le32(data, entry + 4), _le32(data, entry + 8)
        if back > directory - start or not 8 <= block_size <= back:
            return False
        block = directory - back
        name_length = _le32(data, block + 4)
        name = bytes(data[block + 8 : block + 8 + name_length])
        if data[block : block + 2] != b"\0\0" or name_length + 8 > block_size or not NAME.fullmatch(name):
            return False
        if SCRIPT_CARRIER.search(data[block + 8 + name_length : block + min(block_size, 4096)]):
            return False
        first = max(first, back)
    return directory - first == start


def _motion_video(data, start: int, iso) -> bool:
    from app.media.structure import Damaged

    rest = len(data) - start
    declared = {int(n) for n in DECLARED_VIDEO.findall(data[: min(start, XMP_WINDOW)])}
    if rest not in declared or data[start + 4 : start + 8] != b"ftyp":
        return False
    try:
        return iso(data, start) == len(data)
    except (Damaged, IndexError, ValueError):
        return False
