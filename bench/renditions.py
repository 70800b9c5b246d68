"""Renditions against the six networks, on a corpus made on the fly (issue 11).

    .venv/bin/python bench/renditions.py [--seconds 3.2] [--keep DIR]

Corpus: a 24 MP JPEG with EXIF orientation 6 (and GPS), a PNG with alpha, a WebP, a HEIC, a
1920x1080 H.264 60 fps clip, a 3840x2160 HEVC clip (libx265, bundled with PyAV's FFmpeg), a
1280x720 clip, a 1080x1920 vertical clip (each with an AAC stereo track) and a PDF. Each file is
taken to each network: a pair the network refuses even adapted (an image to YouTube, a PDF
outside LinkedIn, a duration out of range) is counted in `refused`; every other pair gets its
rendition through the same child-process runner the actor uses (app/renditions/runner.py), or
the original for a PDF, and `fit_after_adaptation` is the share of those whose result passes
the network's strict check (`networks.check(..., adapt=False)`).

`image_p95_ms`: p95 of the image renditions' wall time (child process included).
`video_realtime_factor`: seconds of video per second of work over every video rendition.
`bare_realtime_factor`: a bare PyAV transcode of the 1080p60 clip to the Facebook rendition's
settings (same size, frame rate, encoder options, audio), measured in the same run, against the
pipeline's factor on the same clip and profile: `video_ratio` = pipeline / bare.
`peak_rss_mib`: the highest peak RSS of a rendition child (the 4K clip's is printed too).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, run as a script

# Each rendition child re-imports this script as `__mp_main__` (multiprocessing prepares a new
# process's main module): it needs none of what follows, and the worker's children do not carry
# it either (their main module is dramatiq's script), so their peak RSS is measured without it.
if __name__ != "__mp_main__":
    import av
    from PIL import Image, ImageDraw

    from app.models import Platform
    from app.networks import RULES, MediaFacts, check
    from app.renditions import image, runner, video

KINDS = {
    ".jpg": ("image", "image/jpeg"),
    ".png": ("image", "image/png"),
    ".webp": ("image", "image/webp"),
    ".heic": ("image", "image/heic"),
    ".mp4": ("video", "video/mp4"),
    ".pdf": ("document", "application/pdf"),
}


# -- Corpus ----------------------------------------------------------------------------------


def _picture(size, alpha=False) -> Image.Image:
    """A photo-like picture: gradients and shapes (noise would only measure the entropy coder)."""
    w, h = size
    small = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((256, 256)),
            Image.radial_gradient("L").resize((256, 256)),
            Image.linear_gradient("L").rotate(90).resize((256, 256)),
        ],
    )
    picture = small.resize(size, Image.BILINEAR)
    draw = ImageDraw.Draw(picture)
    for n in range(40):
        x, y = (n * 7919) % w, (n * 104729) % h
        draw.ellipse((x, y, x + w // 12, y + h // 12), fill=((n * 50) % 255, (n * 90) % 255, (n * 130) % 255))
    if alpha:
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).ellipse((w // 8, h // 8, w * 7 // 8, h * 7 // 8), fill=255)
        picture.putalpha(mask)
    return picture


def _clip(path: Path, size, fps: int, seconds: float, codec: str = "libx264") -> None:
    if path.exists():  # kept from an earlier run (--keep): the 4K HEVC clip takes minutes
        return
    frames = round(fps * seconds)
    base = [_picture(size).rotate(angle) for angle in (0, 3, 6, 9)]
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast"}
        audio = output.add_stream("aac", rate=48_000)
        audio.layout = "stereo"
        samples_done = 0
        for i in range(frames):
            frame = av.VideoFrame.from_image(base[i % len(base)])
            for packet in stream.encode(frame):
                output.mux(packet)
            while samples_done < (i + 1) * 48_000 / fps:
                chunk = av.AudioFrame(format="s16", layout="stereo", samples=1024)
                value = int(8000 * math.sin(samples_done / 20))
                chunk.planes[0].update(value.to_bytes(2, "little", signed=True) * 2048)
                chunk.sample_rate, chunk.pts = 48_000, samples_done
                for packet in audio.encode(chunk):
                    output.mux(packet)
                samples_done += 1024
        for s in (stream, audio):
            for packet in s.encode():
                output.mux(packet)


def corpus(folder: Path, seconds: float) -> tuple[list[Path], str]:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    files = []
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 29.0)
    path = folder / "photo-24mp-rotated.jpg"
    _picture((6000, 4000)).save(path, "JPEG", quality=92, exif=exif.tobytes())
    files.append(path)
    for name, fmt, size, alpha in (
        ("logo-alpha.png", "PNG", (2000, 1500), True),
        ("poster.webp", "WEBP", (2400, 1600), False),
        ("phone.heic", "HEIF", (3000, 2000), False),
    ):
        _picture(size, alpha).save(folder / name, fmt)
        files.append(folder / name)
    hevc = "libx265" if "libx265" in av.codecs_available else "libx264"
    for name, size, fps, codec in (
        ("clip-1080p60.mp4", (1920, 1080), 60, "libx264"),
        ("clip-4k-hevc.mp4", (3840, 2160), 30, hevc),
        ("clip-720p.mp4", (1280, 720), 30, "libx264"),
        ("clip-vertical.mp4", (1080, 1920), 30, "libx264"),
    ):
        _clip(folder / name, size, fps, seconds, codec)
        files.append(folder / name)
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(3):
        document.new_page(595, 842)
    document.save(str(folder / "brochure.pdf"))
    document.close()
    files.append(folder / "brochure.pdf")
    return files, hevc


def facts_of(path: Path) -> MediaFacts:
    kind, mime = KINDS[path.suffix]
    size = path.stat().st_size
    if kind == "image":
        with Image.open(path) as picture:
            w, h = picture.size
            if picture.getexif().get(0x0112, 1) in image.SWAPS_AXES:
                w, h = h, w
        return MediaFacts(kind, mime, size, w, h)
    if kind == "video":
        found = video.probe(str(path))
        return MediaFacts(kind, mime, size, found["width"], found["height"], found["duration"], found["fps"])
    return MediaFacts(kind, mime, size)


# -- Bare transcode --------------------------------------------------------------------------


def bare_transcode(source: Path, target: Path, platform: Platform) -> float:
    """The same clip to the same settings with nothing but PyAV: decode, reformat, keep one
    frame per output tick, encode, resample and encode the audio. Seconds of work."""
    facts = video.probe(str(source))
    plan = video.plan(RULES[platform], facts["width"], facts["height"], facts["fps"], facts["duration"])
    started = time.perf_counter()
    with av.open(str(source)) as container:
        vin, ain = container.streams.video[0], container.streams.audio[0]
        vin.thread_type = "AUTO"
        output, vout, aout = video.open_output(str(target), plan, True)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=video.AUDIO_RATE)
        step, next_t, n = 1 / plan.fps, Fraction(0), 0
        for packet in container.demux(vin, ain):
            for frame in packet.decode():
                if packet.stream is vin:
                    if frame.time is None or frame.time + 1e-6 < next_t:
                        continue
                    out = frame.reformat(plan.width, plan.height, "yuv420p")
                    out.pts, out.time_base = n, vout.codec_context.time_base
                    output.mux(vout.encode(out))
                    n, next_t = n + 1, next_t + step
                else:
                    for chunk in resampler.resample(frame):
                        output.mux(aout.encode(chunk))
        output.mux(vout.encode(None))
        output.mux(aout.encode(None))
        output.close()
    return time.perf_counter() - started


# -- Run -------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.2, help="length of each clip")
    parser.add_argument("--keep", help="write the corpus and renditions here and keep them")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="renditions-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        files, hevc = corpus(folder, args.seconds)
        print(f"corpus: {len(files)} files, 4K clip encoded with {hevc}", flush=True)
        warm = folder / "warm.png"  # the child processes' server starts once per worker, not per file
        Image.new("RGB", (64, 64)).save(warm)
        runner.run("image", str(warm), str(folder / "warm-out"), RULES[Platform.X], image.Settings(), 60)
        targets = list(Platform)
        refused, fit, tried, image_ms, video_s, video_work, peak, peak_4k = 0, 0, 0, [], 0.0, 0.0, 0, 0
        same_clip = None
        for path in files:
            facts = facts_of(path)
            for platform in targets:
                if check(platform, "x", [facts]):  # what no rendition fixes: kind, duration
                    refused += 1
                    continue
                tried += 1
                if facts.kind == "document":  # passed through as it is
                    fit += not check(platform, "x", [facts], adapt=False)
                    continue
                target = folder / f"out-{path.stem}-{platform.value}"
                settings = image.Settings() if facts.kind == "image" else video.Settings()
                started = time.perf_counter()
                try:
                    result = runner.run(facts.kind, str(path), str(target), RULES[platform], settings, args.timeout)
                except runner.RenditionError as exc:
                    print(f"{path.name} -> {platform.value}: FAILED {exc}", flush=True)
                    continue
                elapsed = time.perf_counter() - started
                out = MediaFacts(
                    facts.kind,
                    result["mime"],
                    result["size"],
                    result["width"],
                    result["height"],
                    result.get("duration"),
                    result.get("fps"),
                )
                problems = [p.code for p in check(platform, "x", [out], adapt=False)]
                fit += not problems
                peak = max(peak, result["peak_rss_kib"])
                if facts.kind == "image":
                    image_ms.append(elapsed * 1000)
                else:
                    video_s += facts.duration_s
                    video_work += elapsed
                    if "4k" in path.name:
                        peak_4k = max(peak_4k, result["peak_rss_kib"])
                    if path.name == "clip-1080p60.mp4" and platform is Platform.FACEBOOK:
                        same_clip = (facts.duration_s, elapsed, path)
                print(
                    f"{path.name} -> {platform.value}: {elapsed * 1000:.0f} ms, {result['width']}x"
                    f"{result['height']} {result['mime']} {result['size'] / 1e6:.2f} MB"
                    f"{' ' + str(problems) if problems else ''}",
                    flush=True,
                )
        duration, pipeline_time, clip = same_clip
        # Same clip, same settings, one after the other, twice each (best of each): the load the
        # other processes of the machine put on it falls on both.
        bare_times = []
        for _ in range(2):
            bare_times.append(bare_transcode(clip, folder / "bare.mp4", Platform.FACEBOOK))
            started = time.perf_counter()
            runner.run(
                "video", str(clip), str(folder / "again.mp4"), RULES[Platform.FACEBOOK], video.Settings(), args.timeout
            )
            pipeline_time = min(pipeline_time, time.perf_counter() - started)
        bare_time = min(bare_times)
        pipeline_factor, bare_factor = duration / pipeline_time, duration / bare_time
        print(
            f"1080p60 -> facebook: pipeline {pipeline_time:.2f} s, bare {bare_time:.2f} s; "
            f"4K clip peak RSS {peak_4k / 1024:.0f} MiB",
            flush=True,
        )
        print(
            json.dumps(
                {
                    "files": len(files),
                    "targets": len(targets),
                    "fit_after_adaptation": round(fit / tried, 3) if tried else None,
                    "refused": refused,
                    "image_p95_ms": round(p95(image_ms)),
                    "video_realtime_factor": round(video_s / video_work, 3) if video_work else None,
                    "bare_realtime_factor": round(bare_factor, 3),
                    "video_ratio": round(pipeline_factor / bare_factor, 3),
                    "peak_rss_mib": round(peak / 1024, 1),
                }
            )
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
