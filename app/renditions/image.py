"""An image made to fit one network's rules (runs in the rendition child process).

Order of work, each step only when needed: the crop box is computed on the header's size (EXIF
orientation included); a JPEG is decoded at a reduced scale (`Image.draft`: the DCT scales by
1/2, 1/4, 1/8, so a 24 MP photo made 1440 px wide is never decoded whole), other formats are
halved with `Image.reduce` once decoded; then orientation applied (`ImageOps.exif_transpose`),
cropped into the allowed aspect ratio around the focal point, resized to the allowed width,
converted to sRGB from its ICC profile (`ImageCms`), transparency flattened onto white when the
output is JPEG, and encoded without metadata (unless `keep_metadata`), lowering the quality
and then the dimensions until the file is under the network's weight limit.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageCms, ImageOps

if TYPE_CHECKING:  # the child process gets the rules' values alone (runner.py): no app.networks there
    from app.networks import Rules

# The formats as app/networks.py names them (MIME types).
JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"

QUALITIES = (88, 82, 76, 70, 62, 54, 46)
LONG_SIDE_MAX = 2560  # where a network sets no width: what feeds show at most, sharp on any screen
SHRINK = 0.85  # each further step once the lowest quality is still too heavy
FORMAT_OF = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", GIF: "GIF"}
SRGB = ImageCms.createProfile("sRGB")
SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the picture a quarter


@dataclass(frozen=True)
class Settings:
    focal: tuple[float, float] = (0.5, 0.5)
    keep_metadata: bool = False


def crop_box(
    width: int, height: int, ratio: tuple[float, float] | None, focal: tuple[float, float]
) -> tuple[int, int, int, int]:
    """The largest box within the allowed ratio range, centred on the focal point as far as the
    picture's edges allow."""
    if not ratio:
        return 0, 0, width, height
    current = width / height
    if current > ratio[1]:  # too wide: keep the height
        w, h = round(height * ratio[1]), height
    elif current < ratio[0]:  # too tall: keep the width
        w, h = width, round(width / ratio[0])
    else:
        return 0, 0, width, height
    left = min(max(round(focal[0] * width - w / 2), 0), width - w)
    top = min(max(round(focal[1] * height - h / 2), 0), height - h)
    return left, top, left + w, top + h


def _output_format(rules: Rules, source_mime: str, has_alpha: bool) -> str:
    accepted = rules.image_types or (JPEG, PNG)
    if has_alpha and rules.image_keeps_alpha and source_mime in accepted and source_mime in (PNG, WEBP):
        return source_mime
    if JPEG in accepted:
        return JPEG
    return WEBP if WEBP in accepted else accepted[0]


def _target_scale(rules: Rules, w: int, h: int) -> float:
    scale = min(1.0, LONG_SIDE_MAX / max(w, h))
    if rules.image_width and w * scale > rules.image_width[1]:
        scale = rules.image_width[1] / w
    if rules.image_max_pixels and w * h * scale * scale > rules.image_max_pixels:
        scale = math.sqrt(rules.image_max_pixels / (w * h))
    return scale


def _to_srgb(picture: Image.Image, icc: bytes | None) -> Image.Image:
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    if picture.mode not in ("RGB", "RGBA", "CMYK"):
        picture = picture.convert("RGBA" if has_alpha else "RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGBA" if picture.mode == "RGBA" else "RGB"
            return ImageCms.profileToProfile(picture, source, SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the pixels as they are, read as sRGB
    return picture if picture.mode in ("RGB", "RGBA") else picture.convert("RGB")


def _flatten(picture: Image.Image) -> Image.Image:
    if picture.mode != "RGBA":
        return picture.convert("RGB")
    background = Image.new("RGB", picture.size, (255, 255, 255))
    background.paste(picture, mask=picture.getchannel("A"))
    return background


def _encode(picture: Image.Image, mime: str, quality: int | None, exif: bytes | None) -> bytes:
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    if mime == JPEG:
        picture.save(out, "JPEG", quality=quality, **kwargs)
    elif mime == WEBP:
        picture.save(out, "WEBP", quality=quality, method=4, **kwargs)
    else:
        picture.save(out, FORMAT_OF.get(mime, "PNG"), compress_level=6)
    return out.getvalue()


def render(source: str, target: str, rules: Rules, settings: Settings = Settings()) -> dict:
    """Write the rendition of the image at `source` to `target`; what was done, as a dict."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    with Image.open(source) as picture:
        source_mime = Image.MIME.get(picture.format or "", "")
        exif = picture.getexif()
        orientation = exif.get(0x0112, 1)
        width, height = picture.size
        shown_w, shown_h = (height, width) if orientation in SWAPS_AXES else (width, height)
        box = crop_box(shown_w, shown_h, rules.image_ratio, settings.focal)
        scale = _target_scale(rules, box[2] - box[0], box[3] - box[1])
        if picture.format == "JPEG" and scale < 1:
            picture.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        icc = picture.info.get("icc_profile")
        picture.load()
        factor = picture.size[0] / width  # what draft decoded, 1/8 to 1
        if picture.mode == "P":
            picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
        reduce_by = int(1 / (scale / factor)) if scale / factor < 0.5 else 1
        if reduce_by > 1 and picture.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
            picture = picture.reduce(reduce_by)
            factor /= reduce_by
        picture = ImageOps.exif_transpose(picture) if orientation != 1 else picture
        box_now = tuple(round(v * factor) for v in box)
        if box_now != (0, 0, *picture.size):
            picture = picture.crop(box_now)
        final_w = max(1, round((box[2] - box[0]) * scale))
        final_h = max(1, round((box[3] - box[1]) * scale))
        if rules.image_width and final_w < rules.image_width[0]:  # too narrow: enlarged to the minimum
            final_h, final_w = round(final_h * rules.image_width[0] / final_w), rules.image_width[0]
        if picture.size != (final_w, final_h):
            picture = picture.resize((final_w, final_h), Image.LANCZOS)
        picture = _to_srgb(picture, icc)
    has_alpha = picture.mode == "RGBA" and picture.getchannel("A").getextrema()[0] < 255
    mime = _output_format(rules, source_mime, has_alpha)
    if mime == JPEG:
        picture = _flatten(picture)
    elif not has_alpha and picture.mode == "RGBA":
        picture = picture.convert("RGB")
    kept = _kept_metadata(exif) if settings.keep_metadata and mime in (JPEG, WEBP) else None
    limit = rules.image_max_bytes
    data, quality = _fit_weight(picture, mime, limit, kept, rules)
    if data is None and mime != JPEG and (JPEG in (rules.image_types or (JPEG,))):
        mime, picture = JPEG, _flatten(picture)  # a PNG too heavy even when small: JPEG it is
        data, quality = _fit_weight(picture, mime, limit, kept, rules)
    if data is None:
        raise ValueError("the image cannot be brought under the weight limit")
    picture_size = _size_of(data)
    with open(target, "wb") as out:
        out.write(data)
    return {
        "mime": mime,
        "size": len(data),
        "width": picture_size[0],
        "height": picture_size[1],
        "changes": {
            "source_mime": source_mime,
            "source_size": [shown_w, shown_h],
            "cropped": box != (0, 0, shown_w, shown_h),
            "quality": quality,
            "converted": mime != source_mime,
            "resized": picture_size[0] != box[2] - box[0],
            "metadata_kept": kept is not None,
        },
    }


def _fit_weight(picture: Image.Image, mime: str, limit: int | None, exif: bytes | None, rules: Rules):
    """The encoded bytes under `limit`: quality steps first, then smaller dimensions."""
    qualities = QUALITIES if mime in (JPEG, WEBP) else (None,)
    min_width = rules.image_width[0] if rules.image_width else 1
    while True:
        for quality in qualities:
            data = _encode(picture, mime, quality, exif)
            if not limit or len(data) <= limit:
                return data, quality
        width, height = picture.size
        if width * SHRINK < max(min_width, 16):
            return None, None
        picture = picture.resize((round(width * SHRINK), round(height * SHRINK)), Image.LANCZOS)
        qualities = qualities[-3:]  # smaller now: the middle qualities are worth a try again


def _kept_metadata(exif: Image.Exif) -> bytes | None:
    """The admin chose to keep metadata: everything but the orientation, now applied."""
    exif = Image.Exif() if exif is None else exif
    if 0x0112 in exif:
        del exif[0x0112]
    return exif.tobytes() or None


def _size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as check:
        return check.size
