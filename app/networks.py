"""What each social network accepts, in one place (docs/network-rules.md), and the check of a
post against it before it is submitted, with messages an editor can act on.

Sources disagree and networks change their limits: the stricter value is kept, and each entry
names where its figures come from. Admins see this table on the accounts page.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.models import Platform

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaFacts:
    """What the checks need to know about a media file (read from the library at ingest)."""
    kind: str               # image, video, document
    mime: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    fps: float | None = None


@dataclass(frozen=True)
class Rules:
    text_max: int
    counting: str = "chars"                  # chars | x_weighted | utf8_bytes | utf16
    hashtags_max: int | None = None
    mentions_max: int | None = None
    media_required: bool = False
    images_max: int = 0
    videos_max: int = 0                       # at most this many videos (alone: no mixing)
    documents_max: int = 0
    images_min_when_several: int = 1          # LinkedIn: 1 image, or 2 to 20
    image_types: tuple[str, ...] = ()
    image_max_bytes: int | None = None
    gif_max_bytes: int | None = None
    image_ratio: tuple[float, float] | None = None    # width / height
    image_width: tuple[int, int] | None = None
    image_max_pixels: int | None = None
    video_types: tuple[str, ...] = ()
    video_max_bytes: int | None = None
    video_seconds: tuple[float, float] | None = None
    video_fps: tuple[float, float] | None = None
    video_min_size: tuple[int, int] | None = None     # minimum (width, height)
    video_max_size: tuple[int, int] | None = None     # maximum (width, height)
    video_ratio: tuple[float, float] | None = None
    document_max_bytes: int | None = None
    forbidden_chars: str = ""
    sources: tuple[str, ...] = field(default=())


JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
MP4, MOV, WEBM, PDF = "video/mp4", "video/quicktime", "video/webm", "application/pdf"

RULES: dict[Platform, Rules] = {
    Platform.FACEBOOK: Rules(
        text_max=63_206, images_max=10, videos_max=1, image_types=(JPEG, PNG), image_max_bytes=4 * MB,
        video_types=(MP4,), video_seconds=(3, 90), video_fps=(24, 60), video_min_size=(540, 960),
        sources=("Postiz facebook.provider.ts", "Mixpost config", "developers.facebook.com reels-publishing")),
    Platform.INSTAGRAM: Rules(
        text_max=2_200, hashtags_max=30, mentions_max=20, media_required=True, images_max=10, videos_max=10,
        image_types=(JPEG,), image_max_bytes=8 * MB, image_ratio=(4 / 5, 1.91), image_width=(320, 1440),
        video_types=(MP4, MOV), video_max_bytes=300 * MB, video_seconds=(3, 15 * 60), video_fps=(23, 60),
        sources=("Postiz instagram.provider.ts", "developers.facebook.com ig-user/media", "Ayrshare")),
    Platform.YOUTUBE: Rules(
        text_max=5_000, counting="utf8_bytes", media_required=True, videos_max=1,
        video_types=(MP4, MOV, WEBM), video_seconds=(1, 15 * 60), forbidden_chars="<>",
        sources=("developers.google.com youtube/v3 videos", "unverified channels: 15 min")),
    Platform.LINKEDIN: Rules(
        text_max=3_000, images_max=20, videos_max=1, documents_max=1, images_min_when_several=2,
        image_types=(JPEG, PNG, GIF), image_max_pixels=36_152_320, video_types=(MP4,),
        video_max_bytes=500 * MB, video_seconds=(3, 30 * 60), document_max_bytes=100 * MB,
        sources=("learn.microsoft.com linkedin multiimage-post-api", "Ayrshare LinkedIn", "Postiz")),
    Platform.X: Rules(
        text_max=280, counting="x_weighted", images_max=4, videos_max=1,
        image_types=(JPEG, PNG, GIF, WEBP), image_max_bytes=5 * MB, gif_max_bytes=15 * MB,
        video_types=(MP4, MOV), video_seconds=(0.5, 20 * 60), video_fps=(1, 60),
        video_max_size=(1280, 1024), video_ratio=(1 / 3, 3),
        sources=("docs.x.com counting-characters", "xdevplatform media best-practices", "Mixpost config")),
    Platform.TIKTOK: Rules(
        text_max=2_000, counting="utf16", media_required=True, images_max=35, videos_max=1,
        image_types=(JPEG, WEBP), image_max_bytes=20 * MB, video_types=(MP4, WEBM, MOV),
        video_seconds=(3, 10 * 60), video_fps=(23, 60), video_min_size=(360, 360),
        video_max_size=(4096, 4096),
        sources=("developers.tiktok.com content-posting-api", "Postiz caps text at 2,000")),
}

URL = re.compile(r"https?://\S+", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w&])#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")
# X counts these code points as 1 and every other one as 2 (docs.x.com counting-characters).
X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
X_URL_LENGTH = 23


def text_length(text: str, counting: str) -> int:
    text = unicodedata.normalize("NFC", text)
    if counting == "utf8_bytes":
        return len(text.encode("utf-8"))
    if counting == "utf16":
        return len(text.encode("utf-16-le")) // 2
    if counting == "x_weighted":
        urls = URL.findall(text)
        rest = URL.sub("", text)
        light = sum(1 for ch in rest if any(lo <= ord(ch) <= hi for lo, hi in X_LIGHT))
        return light + 2 * (len(rest) - light) + X_URL_LENGTH * len(urls)
    return len(text)


@dataclass
class Problem:
    code: str
    message: str


def check(platform: Platform, text: str, media: list[MediaFacts]) -> list[Problem]:
    """Everything that would make `platform` refuse this post (empty list: it fits)."""
    rules = RULES[platform]
    problems = _check_text(rules, text or "") + _check_mix(rules, media)
    for position, item in enumerate(media, start=1):
        problems += _check_item(rules, position, item)
    return problems


def _check_text(rules: Rules, text: str) -> list[Problem]:
    problems = []
    length = text_length(text, rules.counting)
    if length > rules.text_max:
        unit = _l("bytes") if rules.counting == "utf8_bytes" else _l("characters")
        problems.append(Problem("text_too_long", str(_l(
            "The text is %(length)d %(unit)s long; the limit is %(limit)d.",
            length=length, unit=unit, limit=rules.text_max))))
    if rules.hashtags_max is not None and len(HASHTAG.findall(text)) > rules.hashtags_max:
        problems.append(Problem("too_many_hashtags", str(_l(
            "%(count)d hashtags; at most %(limit)d.", count=len(HASHTAG.findall(text)), limit=rules.hashtags_max))))
    if rules.mentions_max is not None and len(MENTION.findall(text)) > rules.mentions_max:
        problems.append(Problem("too_many_mentions", str(_l(
            "%(count)d mentions; at most %(limit)d.", count=len(MENTION.findall(text)), limit=rules.mentions_max))))
    bad = sorted({ch for ch in text if ch in rules.forbidden_chars})
    if bad:
        problems.append(Problem("forbidden_characters", str(_l(
            "These characters are not accepted: %(chars)s", chars=" ".join(bad)))))
    return problems


def _check_mix(rules: Rules, media: list[MediaFacts]) -> list[Problem]:
    images = sum(1 for m in media if m.kind == "image")
    videos = sum(1 for m in media if m.kind == "video")
    documents = sum(1 for m in media if m.kind == "document")
    if not media:
        return [Problem("media_required", str(_l("This network needs at least one photo or video.")))] \
            if rules.media_required else []
    if sum(1 for n in (images, videos, documents) if n) > 1 and not (rules.videos_max > 1 and documents == 0):
        return [Problem("media_mix", str(_l("Photos, videos and documents cannot be mixed in one post here.")))]
    problems = []
    for count, limit, label in ((images, rules.images_max, _l("photos")), (videos, rules.videos_max, _l("videos")),
                                (documents, rules.documents_max, _l("documents"))):
        if count > limit:
            problems.append(Problem("too_many_media", str(_l(
                "%(count)d %(what)s; this network accepts %(limit)d.", count=count, what=label, limit=limit))))
    if images > 1 and images < rules.images_min_when_several:
        problems.append(Problem("too_few_images", str(_l(
            "Post one photo, or at least %(min)d.", min=rules.images_min_when_several))))
    if rules.videos_max == 1 and not rules.images_max and videos != 1:
        problems.append(Problem("one_video", str(_l("This network takes exactly one video."))))
    return problems


def _check_item(rules: Rules, position: int, item: MediaFacts) -> list[Problem]:
    def problem(code, message, **values):
        text = str(message) % values if values else str(message)
        return Problem(code, str(_l("Media %(n)d: ", n=position)) + text)

    problems = []
    if item.kind == "image":
        if rules.image_types and item.mime not in rules.image_types:
            problems.append(problem("image_type", _l("this image format is not accepted (%(types)s)."),
                                    types=_types(rules.image_types)))
        limit = rules.gif_max_bytes if item.mime == GIF and rules.gif_max_bytes else rules.image_max_bytes
        if limit and item.size > limit:
            problems.append(problem("image_size", _l("the file weighs %(size)s; the limit is %(limit)s."),
                                    size=_mb(item.size), limit=_mb(limit)))
        if item.width and item.height:
            ratio = item.width / item.height
            if rules.image_ratio and not rules.image_ratio[0] - 0.01 <= ratio <= rules.image_ratio[1] + 0.01:
                problems.append(problem("image_ratio", _l("its shape (%(w)d×%(h)d) is outside what is accepted."),
                                        w=item.width, h=item.height))
            if rules.image_width and not rules.image_width[0] <= item.width <= rules.image_width[1]:
                problems.append(problem("image_width", _l("it is %(w)d pixels wide; accepted: %(lo)d to %(hi)d."),
                                        w=item.width, lo=rules.image_width[0], hi=rules.image_width[1]))
            if rules.image_max_pixels and item.width * item.height > rules.image_max_pixels:
                problems.append(problem("image_pixels", _l("it has too many pixels.")))
    elif item.kind == "video":
        if rules.video_types and item.mime not in rules.video_types:
            problems.append(problem("video_type", _l("this video format is not accepted (%(types)s)."),
                                    types=_types(rules.video_types)))
        if rules.video_max_bytes and item.size > rules.video_max_bytes:
            problems.append(problem("video_size", _l("the file weighs %(size)s; the limit is %(limit)s."),
                                    size=_mb(item.size), limit=_mb(rules.video_max_bytes)))
        if rules.video_seconds and item.duration_s is not None \
                and not rules.video_seconds[0] <= item.duration_s <= rules.video_seconds[1]:
            problems.append(problem("video_duration", _l("it lasts %(d)s s; accepted: %(lo)s to %(hi)s s."),
                                    d=round(item.duration_s, 1), lo=rules.video_seconds[0], hi=rules.video_seconds[1]))
        if rules.video_fps and item.fps and not rules.video_fps[0] <= item.fps <= rules.video_fps[1]:
            problems.append(problem("video_fps", _l("%(fps)s images per second; accepted: %(lo)s to %(hi)s."),
                                    fps=round(item.fps, 2), lo=rules.video_fps[0], hi=rules.video_fps[1]))
        if item.width and item.height:
            if rules.video_min_size and (item.width < rules.video_min_size[0] or item.height < rules.video_min_size[1]):
                problems.append(problem("video_small", _l("it is %(w)d×%(h)d; at least %(mw)d×%(mh)d is needed."),
                                        w=item.width, h=item.height, mw=rules.video_min_size[0],
                                        mh=rules.video_min_size[1]))
            if rules.video_max_size and (item.width > rules.video_max_size[0] or item.height > rules.video_max_size[1]):
                problems.append(problem("video_large", _l("it is %(w)d×%(h)d; at most %(mw)d×%(mh)d."),
                                        w=item.width, h=item.height, mw=rules.video_max_size[0],
                                        mh=rules.video_max_size[1]))
            ratio = item.width / item.height
            if rules.video_ratio and not rules.video_ratio[0] <= ratio <= rules.video_ratio[1]:
                problems.append(problem("video_ratio", _l("its shape is outside what is accepted.")))
    elif item.kind == "document":
        if not rules.documents_max:
            problems.append(problem("document", _l("documents cannot be posted on this network.")))
        elif rules.document_max_bytes and item.size > rules.document_max_bytes:
            problems.append(problem("document_size", _l("the file weighs %(size)s; the limit is %(limit)s."),
                                    size=_mb(item.size), limit=_mb(rules.document_max_bytes)))
    return problems


def _types(mimes: tuple[str, ...]) -> str:
    return ", ".join(m.split("/")[1].replace("quicktime", "mov").upper() for m in mimes)


def _mb(size: int) -> str:
    return str(_l("%(n).1f MB", n=size / MB))
