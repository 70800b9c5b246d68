"""Whether a received video opens in PyAV (FFmpeg) and its first frames decode, run in a child
process by `app.media.inspection`: PyAV and FFmpeg's libraries take about 24 MiB once loaded,
which a web worker would otherwise keep for the rest of its life after its first video upload
(docs/operations.md, "The web process").

    python -I app/media/video_probe.py <path> <ffmpeg format name>

prints one word: `ok`, `format` (the container is not the one the first bytes claimed),
`no_stream` (no video stream), `no_frames` (no picture decodes) or `damaged` (FFmpeg cannot read
it). Imports nothing of the app, so the child starts in a fraction of a second.
"""

from __future__ import annotations

import sys
import time

FRAMES = 3  # decoded frames that make a video readable
MAX_PACKETS = 600  # read at most this many packets of its video stream looking for them
MAX_SECONDS = 20.0


def frames(container, stream) -> int:
    """Frames decoded from the first packets (bounded in packets and time)."""
    deadline, decoded = time.monotonic() + MAX_SECONDS, 0
    for count, packet in enumerate(container.demux(stream), 1):
        decoded += len(packet.decode())  # the empty packet at the end flushes the decoder
        if decoded >= FRAMES or count >= MAX_PACKETS or time.monotonic() > deadline:
            break
    return decoded


def probe(path: str, format_name: str) -> str:
    import av

    try:
        with av.open(path, mode="r") as container:
            if format_name not in container.format.name.split(","):
                return "format"
            stream = next(iter(container.streams.video), None)
            if stream is None:
                return "no_stream"
            return "ok" if frames(container, stream) else "no_frames"
    except Exception:  # av.FFmpegError, or a codec PyAV does not know
        return "damaged"


if __name__ == "__main__":
    print(probe(sys.argv[1], sys.argv[2]))
