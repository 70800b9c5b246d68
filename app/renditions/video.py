"""A video re-encoded to fit one network's rules (runs in the rendition child process).

PyAV (the FFmpeg it bundles) streams the file packet by packet: each decoded frame goes through
one libavfilter graph (turned as the phone recorded it, cropped or letterboxed into the
accepted shape, scaled into the accepted sizes, frame rate clamped into the accepted range) and
into libx264; the audio is resampled to 48 kHz stereo and encoded as AAC. The MP4 is written
with `movflags=+faststart` (the `moov` atom first, as Instagram asks). Memory stays bounded by
the codecs' own buffers, whatever the file's length: measured for the benchmark's 4K HEVC clip
(bench/renditions.py), about 130 MiB in the HEVC decoder (4K reference pictures, the same with
one thread or none), 120 MiB in x264 at 1080p (below), and 50 MiB for Python and PyAV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the child process gets the rules' values alone (runner.py): no app.networks there
    from app.networks import Rules

LONG_SIDE_MAX = 1920  # networks recompress anyway; bigger renditions only cost time
PRESET, CRF = "veryfast", "23"
AUDIO_RATE, AUDIO_BITRATE = 48_000, 128_000
BITRATE_CEILING = 20_000_000  # what CRF 23 never reaches at 1920 px
# Slice threads: one decoding context. Frame threads each keep their own reference frames,
# 100 MiB more for a 4K HEVC clip for no gain on a worker that runs several renditions.
THREAD_TYPE = "SLICE"
# x264 keeps each frame in flight with its half-pixel planes (about 4x the picture): fewer frame
# threads and a shorter look-ahead bound what a 1080p encode holds. B-frames used as references
# (b-pyramid) keep more reconstructed frames: without them a 1080p encode holds 23 MiB less. The
# files came out the same size for a panning 720p clip and the benchmark's 1080p and vertical
# clips, and 29 % larger for its 4K clip, whose frames repeat every fourth (what a pyramid of
# references catches); what a network accepts stays bounded by `max_bitrate`.
X264_MEMORY = {"threads": "2", "rc-lookahead": "5", "x264-params": "b-pyramid=none"}


@dataclass(frozen=True)
class Settings:
    fit: str = "letterbox"  # letterbox | crop: how a shape outside the range is made to fit
    focal: tuple[float, float] = (0.5, 0.5)


@dataclass(frozen=True)
class Plan:
    width: int
    height: int
    fps: Fraction
    crop: tuple[int, int, int, int] | None  # w, h, x, y in the turned source
    pad: bool
    max_bitrate: int | None


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def plan(rules: Rules, width: int, height: int, fps: float, duration: float, settings: Settings = Settings()) -> Plan:
    """Output size, frame rate, crop or letterbox for a `width` x `height` source."""
    ratio = width / height
    lo, hi = rules.video_ratio or (0, math.inf)
    wanted = min(max(ratio, lo), hi)
    crop, pad = None, False
    if wanted != ratio and settings.fit == "crop":
        w, h = (round(height * wanted), height) if ratio > wanted else (width, round(width / wanted))
        x = min(max(round(settings.focal[0] * width - w / 2), 0), width - w)
        y = min(max(round(settings.focal[1] * height - h / 2), 0), height - h)
        crop, (width, height) = (w, h, x, y), (w, h)
    elif wanted != ratio:
        pad = True
    # The frame the picture goes into (same shape as the picture unless letterboxed).
    box_w, box_h = (width, round(width / wanted)) if wanted < ratio else (round(height * wanted), height)
    scale = min(1.0, LONG_SIDE_MAX / max(box_w, box_h))
    if rules.video_max_size:
        scale = min(scale, rules.video_max_size[0] / box_w, rules.video_max_size[1] / box_h)
    if rules.video_min_size:
        scale = max(scale, rules.video_min_size[0] / box_w, rules.video_min_size[1] / box_h)
    out_fps = Fraction(fps).limit_denominator(1001) if fps else Fraction(30)
    if rules.video_fps:
        out_fps = min(max(out_fps, Fraction(rules.video_fps[0])), Fraction(rules.video_fps[1]))
    max_bitrate = None
    if rules.video_max_bytes and duration:
        budget = int(rules.video_max_bytes * 8 * 0.9 / duration) - AUDIO_BITRATE
        max_bitrate = budget if budget < BITRATE_CEILING else None  # else CRF alone stays far below
    return Plan(_even(box_w * scale), _even(box_h * scale), out_fps, crop, pad, max_bitrate)


def _graph(stream, rotation: int, p: Plan, picture_size: tuple[int, int]):
    import av  # imported on use: the web process never loads PyAV for renditions

    graph = av.filter.Graph()
    chain = [graph.add_buffer(template=stream)]
    turn = {90: "cclock", -90: "clock", 270: "clock", -270: "cclock"}.get(rotation)
    if turn:
        chain.append(graph.add("transpose", turn))
    elif rotation in (180, -180):
        chain += [graph.add("hflip"), graph.add("vflip")]
    chain.append(graph.add("fps", str(p.fps)))  # first: frames dropped are never scaled
    if p.crop:
        w, h, x, y = p.crop
        chain.append(graph.add("crop", f"{w}:{h}:{x}:{y}"))
    if p.pad:
        chain.append(
            graph.add("scale", f"{p.width}:{p.height}:force_original_aspect_ratio=decrease:force_divisible_by=2")
        )
        chain.append(graph.add("pad", f"{p.width}:{p.height}:(ow-iw)/2:(oh-ih)/2:black"))
    else:
        chain.append(graph.add("scale", f"{p.width}:{p.height}"))
    chain += [graph.add("format", "yuv420p"), graph.add("buffersink")]
    for a, b in zip(chain, chain[1:]):
        a.link_to(b)
    graph.configure()
    return graph


def open_output(target: str, p: Plan, with_audio: bool):
    """The MP4 container and its streams: H.264 (and AAC) at the plan's settings. The bare
    transcode of the benchmark uses it too, so both encode to the same settings."""
    import av  # imported on use: the web process never loads PyAV for renditions

    output = av.open(target, "w", format="mp4", options={"movflags": "+faststart"})
    video = output.add_stream("libx264", rate=p.fps)
    video.width, video.height, video.pix_fmt = p.width, p.height, "yuv420p"
    options = {"preset": PRESET, "crf": CRF, "g": str(max(1, round(float(p.fps) * 2))), **X264_MEMORY}
    if p.max_bitrate and p.max_bitrate > 0:
        options.update(maxrate=str(p.max_bitrate), bufsize=str(p.max_bitrate * 2))
    video.options = options
    video.codec_context.time_base = 1 / p.fps
    audio = None
    if with_audio:
        audio = output.add_stream("aac", rate=AUDIO_RATE)
        audio.layout, audio.bit_rate = "stereo", AUDIO_BITRATE
    return output, video, audio


def probe(source: str) -> dict:
    import av  # imported on use: the web process never loads PyAV for renditions

    with av.open(source) as container:
        stream = container.streams.video[0]
        stream.thread_type = THREAD_TYPE
        duration = (
            float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1_000_000
        )
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        rotation = 0
        for frame in container.decode(stream):
            rotation = round(frame.rotation or 0)
            break
        width, height = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, -90, 270, -270):
            width, height = height, width
        return {
            "width": width,
            "height": height,
            "fps": fps,
            "duration": duration,
            "rotation": rotation,
            "audio": bool(container.streams.audio),
        }


def render(source: str, target: str, rules: Rules, settings: Settings = Settings()) -> dict:
    import av  # imported on use: the web process never loads PyAV for renditions

    facts = probe(source)
    p = plan(rules, facts["width"], facts["height"], facts["fps"], facts["duration"], settings)
    frames = 0
    with av.open(source) as container:
        vin = container.streams.video[0]
        vin.thread_type = THREAD_TYPE
        ain = container.streams.audio[0] if container.streams.audio else None
        output, vout, aout = open_output(target, p, ain is not None)
        graph = _graph(vin, facts["rotation"], p, (facts["width"], facts["height"]))
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE) if ain else None
        try:
            streams = [s for s in (vin, ain) if s is not None]
            for packet in container.demux(*streams):
                for frame in packet.decode():
                    if packet.stream is vin:
                        graph.push(frame)
                        frames += _drain(graph, vout, output, frames)
                    else:
                        for chunk in resampler.resample(frame):
                            output.mux(aout.encode(chunk))
            graph.push(None)
            frames += _drain(graph, vout, output, frames)
            output.mux(vout.encode(None))
            if aout is not None:
                for chunk in resampler.resample(None):
                    output.mux(aout.encode(chunk))
                output.mux(aout.encode(None))
        finally:
            output.close()
    import os

    return {
        "mime": "video/mp4",
        "size": os.path.getsize(target),
        "width": p.width,
        "height": p.height,
        "fps": float(p.fps),
        "duration": frames / float(p.fps),
        "changes": {
            "source_size": [facts["width"], facts["height"]],
            "source_fps": round(facts["fps"], 3),
            "letterboxed": p.pad,
            "cropped": p.crop is not None,
            "frames": frames,
        },
    }


def _drain(graph, vout, output, done: int) -> int:
    import av  # imported on use: the web process never loads PyAV for renditions

    count = 0
    while True:
        try:
            frame = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return count
        frame.pts, frame.time_base = done + count, vout.codec_context.time_base
        output.mux(vout.encode(frame))
        count += 1
