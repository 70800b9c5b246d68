"""QuickXorHash, the content hash SharePoint reports in ``file.hashes.quickXorHash``.

Microsoft's reference XORs byte ``i`` of the stream into a 160-bit register at bit offset
``(i * 11) mod 160``, wrapping round, then XORs the length into the last 8 bytes. Because the
offset repeats every 160 bytes, we first XOR together all bytes that share a position modulo
160 (done on big integers, so a 1 GiB upload hashes at C speed) and rotate the 160 results
into place only when the digest is asked for.
"""

from __future__ import annotations

import base64

WIDTH_BYTES = 160  # the offset pattern repeats every 160 bytes of input
REGISTER_BITS = 160
SHIFT = 11
STRIPE_ROWS = 256  # 40 KiB stripes: large enough to run at C speed, small to allocate
_REGISTER_MASK = (1 << REGISTER_BITS) - 1


def _fold_halves(value: int, rows: int) -> int:
    """XOR the ``rows`` 160-byte rows packed in ``value`` down to one row."""
    while rows > 1:
        half = rows // 2
        low_bits = (rows - half) * WIDTH_BYTES * 8
        value = (value & ((1 << low_bits) - 1)) ^ (value >> low_bits)
        rows -= half
    return value


def _fold_rows(block: memoryview) -> int:
    """XOR all 160-byte rows of ``block`` into one row, returned as a little-endian int.

    Stripes of a few dozen KiB are XORed as integers first (one pass over the data), then the
    single stripe is folded in halves: about 1 GB/s, where folding the whole block in halves
    costs several passes.
    """
    stripe = STRIPE_ROWS * WIDTH_BYTES
    whole = len(block) - len(block) % stripe
    folded = 0
    for offset in range(0, whole, stripe):
        folded ^= int.from_bytes(block[offset : offset + stripe], "little")
    folded = _fold_halves(folded, STRIPE_ROWS) if whole else 0
    rest = block[whole:]
    if len(rest):
        folded ^= _fold_halves(int.from_bytes(rest, "little"), len(rest) // WIDTH_BYTES)
    return folded


class QuickXorHash:
    """Incremental hasher; ``copy()`` lets an upload fragment be hashed tentatively."""

    def __init__(self) -> None:
        self._lanes = 0  # lane r (byte r) = XOR of every input byte at index ≡ r mod 160
        self._pending = b""  # tail shorter than a row, always starting at a row boundary
        self._length = 0

    def update(self, data: bytes) -> None:
        self._length += len(data)
        buffer = memoryview(self._pending + bytes(data)) if self._pending else memoryview(data)
        full = len(buffer) - len(buffer) % WIDTH_BYTES
        if full:
            self._lanes ^= _fold_rows(buffer[:full])
        self._pending = bytes(buffer[full:])

    def copy(self) -> "QuickXorHash":
        clone = QuickXorHash()
        clone._lanes, clone._pending, clone._length = self._lanes, self._pending, self._length
        return clone

    def digest(self) -> bytes:
        lanes = (self._lanes ^ int.from_bytes(self._pending, "little")).to_bytes(WIDTH_BYTES, "little")
        register = 0
        for index, byte in enumerate(lanes):
            if byte:
                spread = byte << ((index * SHIFT) % REGISTER_BITS)
                register ^= (spread & _REGISTER_MASK) | (spread >> REGISTER_BITS)
        out = bytearray(register.to_bytes(REGISTER_BITS // 8, "little"))
        for index, byte in enumerate(self._length.to_bytes(8, "little")):
            out[REGISTER_BITS // 8 - 8 + index] ^= byte
        return bytes(out)

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")
