"""What each social network accepts, in one place (docs/architecture.md §3.7), and the check of a
post against it before it is submitted, with messages an editor can act on.

Sources disagree and networks change their limits: the stricter value is kept, and each figure
names where it comes from. A file that breaks a limit a rendition can fix (size, format, shape,
weight, frame rate) is adapted rather than refused (`check` vs `adaptations`); what no rendition
fixes (a video's duration, a document where none is taken, the text) is refused with the reason.
Admins see this table on the accounts page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import format_decimal, lazy_gettext as _l

from app import text_count
from app.models import Platform

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaFacts:
    """What the checks need to know about a media file (read from the library at ingest)."""

    kind: str  # image, video, document
    mime: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    fps: float | None = None


@dataclass(frozen=True)
class Rules:
    text_max: int
    counting: str = "chars"  # chars | x_weighted | utf8_bytes | utf16
    hashtags_max: int | None = None
    mentions_max: int | None = None
    media_required: bool = False
    images_max: int = 0
    videos_max: int = 0  # at most this many videos (alone: no mixing)
    documents_max: int = 0
    images_min_when_several: int = 1  # LinkedIn: 1 image, or 2 to 20
    image_types: tuple[str, ...] = ()
    image_max_bytes: int | None = None
    gif_max_bytes: int | None = None
    image_ratio: tuple[float, float] | None = None  # width / height
    image_width: tuple[int, int] | None = None
    image_max_pixels: int | None = None
    image_keeps_alpha: bool = False  # shows a PNG's transparency: a rendition keeps it
    video_types: tuple[str, ...] = ()
    video_max_bytes: int | None = None
    video_seconds: tuple[float, float] | None = None
    video_fps: tuple[float, float] | None = None
    video_min_size: tuple[int, int] | None = None  # minimum (width, height)
    video_max_size: tuple[int, int] | None = None  # maximum (width, height)
    video_ratio: tuple[float, float] | None = None
    document_max_bytes: int | None = None
    forbidden_chars: str = ""
    sources: tuple[str, ...] = field(default=())


JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
MP4, MOV, WEBM, PDF = "video/mp4", "video/quicktime", "video/webm", "application/pdf"

# Each figure carries its source. "IG docs" is Meta's Instagram Graph API reference
# (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media:
# images JPEG only, 4:5 to 1.91:1, 320 to 1440 px wide, 8 MB; Reels 3 s to 15 min, 23 to 60 fps,
# at most 1920 px wide). Where Meta's own pages and the aggregators disagree the stricter figure
# is kept: nothing is refused for it any more, the rendition is made to fit (app/renditions/).
RULES: dict[Platform, Rules] = {
    Platform.FACEBOOK: Rules(
        text_max=63_206,
        images_max=10,
        videos_max=1,
        image_types=(JPEG, PNG),  # Meta page/photos reference; Postiz facebook.provider.ts
        image_max_bytes=4 * MB,  # Meta's error text says < 4 MB; Ayrshare says 10 MB: stricter kept
        image_width=(1, 2048),  # Ayrshare Facebook Pages: max 2048 px wide and high
        video_types=(MP4, MOV),  # Ayrshare Facebook Pages; getlate.dev media guidelines
        video_max_bytes=4 * 1024 * MB,  # feed video: 4 GB (getlate.dev; Meta ads guide); 10 GB elsewhere
        video_seconds=(1, 240 * 60),  # feed video: 1 s to 240 min (getlate.dev, Meta ads guide)
        video_fps=(1, 30),  # Ayrshare Facebook Pages: "video max frames 30fps"
        # No minimum size for feed videos: 540x960 is the Reels minimum (Meta reels-publishing
        # guide), and posts here are feed posts (docs/make-modules.md).
        sources=(
            "developers.facebook.com graph-api/reference/page/photos",
            "ayrshare.com media-guidelines/facebook-pages",
            "docs.getlate.dev media-guidelines/facebook",
            "developers.facebook.com video-api reels-publishing",
        ),
    ),
    Platform.INSTAGRAM: Rules(
        text_max=2_200,
        hashtags_max=30,
        mentions_max=20,
        media_required=True,
        images_max=10,
        videos_max=10,
        image_types=(JPEG,),  # IG docs: "JPEG is the only image format supported"
        image_max_bytes=8 * MB,  # IG docs; Ayrshare Instagram: 8 MB
        image_ratio=(4 / 5, 1.91),  # IG docs; Ayrshare: 4:5 to 1.91:1
        image_width=(320, 1440),  # IG docs; Ayrshare: min 320, max 1440 px
        video_types=(MP4, MOV),  # IG docs Reels: MOV or MP4, moov atom first
        video_max_bytes=300 * MB,  # Ayrshare Instagram Reels: 300 MB (1 GB in other pages)
        video_seconds=(3, 15 * 60),  # IG docs Reels: 3 s to 15 min
        video_fps=(23, 60),  # IG docs Reels: 23 to 60 fps
        video_max_size=(1920, 3600),  # Ayrshare Instagram Reels: max 1920 px wide, 3600 px high
        sources=("developers.facebook.com ig-user/media", "ayrshare.com media-guidelines/instagram", "Postiz"),
    ),
    Platform.YOUTUBE: Rules(
        text_max=5_000,
        counting="utf8_bytes",
        media_required=True,
        videos_max=1,
        video_types=(MP4, MOV, WEBM),  # developers.google.com youtube/v3 videos.insert
        video_seconds=(1, 15 * 60),  # unverified channels: 15 min (support.google.com 71673)
        forbidden_chars="<>",
        sources=("developers.google.com youtube/v3 videos", "unverified channels: 15 min"),
    ),
    Platform.LINKEDIN: Rules(
        text_max=3_000,
        images_max=20,
        videos_max=1,
        documents_max=1,
        images_min_when_several=2,
        image_types=(JPEG, PNG, GIF),  # learn.microsoft.com images-api
        image_max_pixels=36_152_320,  # learn.microsoft.com images-api: 36,152,320 pixels
        video_types=(MP4,),  # learn.microsoft.com videos-api
        video_max_bytes=500 * MB,  # learn.microsoft.com videos-api: 500 MB
        video_seconds=(3, 30 * 60),  # learn.microsoft.com videos-api: 3 s to 30 min
        document_max_bytes=100 * MB,  # learn.microsoft.com documents-api: 100 MB
        sources=("learn.microsoft.com linkedin multiimage-post-api", "Ayrshare LinkedIn", "Postiz"),
    ),
    Platform.X: Rules(
        text_max=280,
        counting="x_weighted",
        images_max=4,
        videos_max=1,
        image_types=(JPEG, PNG, GIF, WEBP),  # xdevplatform media best-practices
        image_max_bytes=5 * MB,
        gif_max_bytes=15 * MB,  # xdevplatform media best-practices
        image_keeps_alpha=True,  # PNG shown as is; Meta's networks recompress everything to JPEG
        video_types=(MP4, MOV),  # xdevplatform media best-practices
        video_seconds=(0.5, 20 * 60),  # 0.5 s to 140 s for most accounts, longer for some (Mixpost)
        video_fps=(1, 60),  # xdevplatform: 60 fps or less
        video_max_size=(1280, 1024),  # xdevplatform: 1280x1024 max
        video_ratio=(1 / 3, 3),  # xdevplatform: 1:3 to 3:1
        sources=("docs.x.com counting-characters", "xdevplatform media best-practices", "Mixpost config"),
    ),
    Platform.TIKTOK: Rules(
        text_max=2_000,
        counting="utf16",
        media_required=True,
        images_max=35,
        videos_max=1,
        image_types=(JPEG, WEBP),
        image_max_bytes=20 * MB,  # developers.tiktok.com content-posting-api photos
        video_types=(MP4, WEBM, MOV),  # developers.tiktok.com media-transfer-guide
        video_seconds=(3, 10 * 60),
        video_fps=(23, 60),  # developers.tiktok.com media-transfer-guide
        video_min_size=(360, 360),
        video_max_size=(4096, 4096),
        sources=("developers.tiktok.com content-posting-api", "Postiz caps text at 2,000"),
    ),
}

HASHTAG = re.compile(r"(?<![\w&])#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")
# Counting rules are written once, in app/text_count.py (X: twitter-text v3).
text_length = text_count.length


@dataclass
class Problem:
    code: str
    message: str


# What a rendition fixes (app/renditions/): the file is adapted, the post is not refused for it.
# A video's duration is not among them: cutting someone's video is not ours to decide.
ADAPTABLE = frozenset(
    {
        "image_type",
        "image_size",
        "image_ratio",
        "image_width",
        "image_pixels",
        "video_type",
        "video_size",
        "video_fps",
        "video_small",
        "video_large",
        "video_ratio",
    }
)


def check(platform: Platform, text: str, media: list[MediaFacts], *, adapt: bool = True) -> list[Problem]:
    """What makes this post impossible to send to `platform` (empty list: it can be sent).

    With `adapt` (the default) a file the renditions will fix is not a problem: `adaptations`
    says what will be done to it. Without, the file is judged as it is (a rendition's check).
    """
    rules = RULES[platform]
    problems = _check_text(rules, text or "") + _check_mix(rules, media)
    for position, item in enumerate(media, start=1):
        problems += [p for p in _check_item(rules, position, item) if not (adapt and p.code in ADAPTABLE)]
    return problems


def adaptations(platform: Platform, media: list[MediaFacts]) -> list[Problem]:
    """What the renditions will change in each file so that `platform` takes it, one note per
    file that needs it (e.g. "Media 1 will be adapted: resized to 1440 px wide, converted to
    JPEG"). Predicted from the file's facts; the rendition states the final weight."""
    rules, notes = RULES[platform], []
    for position, item in enumerate(media, start=1):
        codes = {p.code for p in _check_item(rules, position, item)} & ADAPTABLE
        if codes:
            changes = "; ".join(str(change) for change in _changes(rules, item, codes))
            notes.append(
                Problem("adapted", str(_l("Media %(n)d will be adapted: %(changes)s.", n=position, changes=changes)))
            )
    return notes


def _changes(rules: Rules, item: MediaFacts, codes: set[str]) -> list:
    changes = []
    if item.kind == "image":
        width = target_image_width(rules, item)
        if width and width != item.width:
            changes.append(_l("resized to %(w)d px wide", w=width))
        if "image_ratio" in codes:
            changes.append(_l("cropped to the accepted shape"))
        if "image_type" in codes:
            changes.append(_l("converted to %(type)s", type=_types(rules.image_types[:1])))
        if "image_size" in codes:
            changes.append(_l("compressed under %(limit)s", limit=_mb(rules.image_max_bytes)))
    else:
        changes.append(_l("re-encoded as MP4 (H.264, AAC)"))
        if "video_fps" in codes and rules.video_fps and item.fps:
            changes.append(
                _l("%(fps)s images per second", fps=min(max(round(item.fps), rules.video_fps[0]), rules.video_fps[1]))
            )
        if codes & {"video_small", "video_large", "video_ratio"}:
            changes.append(_l("resized to fit the accepted sizes"))
    return changes


def target_image_width(rules: Rules, item: MediaFacts) -> int | None:
    """The width a rendition of this image will have (before any shrinking for the weight)."""
    if not (item.width and item.height):
        return None
    width, height = item.width, item.height
    if rules.image_ratio:
        ratio = min(max(width / height, rules.image_ratio[0]), rules.image_ratio[1])
        width = min(width, round(height * ratio))
    if rules.image_width:
        width = min(max(width, rules.image_width[0]), rules.image_width[1])
    return width


def _check_text(rules: Rules, text: str) -> list[Problem]:
    problems = []
    length = text_length(text, rules.counting)
    if length > rules.text_max:
        unit = _l("bytes") if rules.counting == "utf8_bytes" else _l("characters")
        problems.append(
            Problem(
                "text_too_long",
                str(
                    _l(
                        "The text is %(length)d %(unit)s long; the limit is %(limit)d.",
                        length=length,
                        unit=unit,
                        limit=rules.text_max,
                    )
                ),
            )
        )
    if rules.hashtags_max is not None and len(HASHTAG.findall(text)) > rules.hashtags_max:
        problems.append(
            Problem(
                "too_many_hashtags",
                str(
                    _l(
                        "%(count)d hashtags; at most %(limit)d.",
                        count=len(HASHTAG.findall(text)),
                        limit=rules.hashtags_max,
                    )
                ),
            )
        )
    if rules.mentions_max is not None and len(MENTION.findall(text)) > rules.mentions_max:
        problems.append(
            Problem(
                "too_many_mentions",
                str(
                    _l(
                        "%(count)d mentions; at most %(limit)d.",
                        count=len(MENTION.findall(text)),
                        limit=rules.mentions_max,
                    )
                ),
            )
        )
    bad = sorted({ch for ch in text if ch in rules.forbidden_chars})
    if bad:
        problems.append(
            Problem(
                "forbidden_characters", str(_l("These characters are not accepted: %(chars)s", chars=" ".join(bad)))
            )
        )
    return problems


def _check_mix(rules: Rules, media: list[MediaFacts]) -> list[Problem]:
    images = sum(1 for m in media if m.kind == "image")
    videos = sum(1 for m in media if m.kind == "video")
    documents = sum(1 for m in media if m.kind == "document")
    if not media:
        return (
            [Problem("media_required", str(_l("This network needs at least one photo or video.")))]
            if rules.media_required
            else []
        )
    if sum(1 for n in (images, videos, documents) if n) > 1 and not (rules.videos_max > 1 and documents == 0):
        return [Problem("media_mix", str(_l("Photos, videos and documents cannot be mixed in one post here.")))]
    problems = []
    for count, limit, label in (
        (images, rules.images_max, _l("photos")),
        (videos, rules.videos_max, _l("videos")),
        (documents, rules.documents_max, _l("documents")),
    ):
        if count > limit:
            problems.append(
                Problem(
                    "too_many_media",
                    str(
                        _l("%(count)d %(what)s; this network accepts %(limit)d.", count=count, what=label, limit=limit)
                    ),
                )
            )
    if images > 1 and images < rules.images_min_when_several:
        problems.append(
            Problem(
                "too_few_images", str(_l("Post one photo, or at least %(min)d.", min=rules.images_min_when_several))
            )
        )
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
            problems.append(
                problem(
                    "image_type", _l("this image format is not accepted (%(types)s)."), types=_types(rules.image_types)
                )
            )
        limit = rules.gif_max_bytes if item.mime == GIF and rules.gif_max_bytes else rules.image_max_bytes
        if limit and item.size > limit:
            problems.append(
                problem(
                    "image_size",
                    _l("the file weighs %(size)s; the limit is %(limit)s."),
                    size=_mb(item.size),
                    limit=_mb(limit),
                )
            )
        if item.width and item.height:
            ratio = item.width / item.height
            if rules.image_ratio and not rules.image_ratio[0] - 0.01 <= ratio <= rules.image_ratio[1] + 0.01:
                problems.append(
                    problem(
                        "image_ratio",
                        _l("its shape (%(w)d×%(h)d) is outside what is accepted."),
                        w=item.width,
                        h=item.height,
                    )
                )
            if rules.image_width and not rules.image_width[0] <= item.width <= rules.image_width[1]:
                problems.append(
                    problem(
                        "image_width",
                        _l("it is %(w)d pixels wide; accepted: %(lo)d to %(hi)d."),
                        w=item.width,
                        lo=rules.image_width[0],
                        hi=rules.image_width[1],
                    )
                )
            if rules.image_max_pixels and item.width * item.height > rules.image_max_pixels:
                problems.append(problem("image_pixels", _l("it has too many pixels.")))
    elif item.kind == "video":
        if rules.video_types and item.mime not in rules.video_types:
            problems.append(
                problem(
                    "video_type", _l("this video format is not accepted (%(types)s)."), types=_types(rules.video_types)
                )
            )
        if rules.video_max_bytes and item.size > rules.video_max_bytes:
            problems.append(
                problem(
                    "video_size",
                    _l("the file weighs %(size)s; the limit is %(limit)s."),
                    size=_mb(item.size),
                    limit=_mb(rules.video_max_bytes),
                )
            )
        if (
            rules.video_seconds
            and item.duration_s is not None
            and not rules.video_seconds[0] <= item.duration_s <= rules.video_seconds[1]
        ):
            lo, hi = rules.video_seconds
            if item.duration_s < lo:
                problems.append(
                    problem(
                        "video_duration",
                        _l("it lasts %(d)s s, %(by)s s too short; accepted: %(lo)s to %(hi)s s. Use a longer video."),
                        d=round(item.duration_s, 1),
                        by=round(lo - item.duration_s, 1),
                        lo=lo,
                        hi=hi,
                    )
                )
            else:
                problems.append(
                    problem(
                        "video_duration",
                        _l("it lasts %(d)s s, %(by)s s too long; accepted: %(lo)s to %(hi)s s. Trim the video."),
                        d=round(item.duration_s, 1),
                        by=round(item.duration_s - hi, 1),
                        lo=lo,
                        hi=hi,
                    )
                )
        if rules.video_fps and item.fps and not rules.video_fps[0] <= item.fps <= rules.video_fps[1]:
            problems.append(
                problem(
                    "video_fps",
                    _l("%(fps)s images per second; accepted: %(lo)s to %(hi)s."),
                    fps=round(item.fps, 2),
                    lo=rules.video_fps[0],
                    hi=rules.video_fps[1],
                )
            )
        if item.width and item.height:
            if rules.video_min_size and (item.width < rules.video_min_size[0] or item.height < rules.video_min_size[1]):
                problems.append(
                    problem(
                        "video_small",
                        _l("it is %(w)d×%(h)d; at least %(mw)d×%(mh)d is needed."),
                        w=item.width,
                        h=item.height,
                        mw=rules.video_min_size[0],
                        mh=rules.video_min_size[1],
                    )
                )
            if rules.video_max_size and (item.width > rules.video_max_size[0] or item.height > rules.video_max_size[1]):
                problems.append(
                    problem(
                        "video_large",
                        _l("it is %(w)d×%(h)d; at most %(mw)d×%(mh)d."),
                        w=item.width,
                        h=item.height,
                        mw=rules.video_max_size[0],
                        mh=rules.video_max_size[1],
                    )
                )
            ratio = item.width / item.height
            if rules.video_ratio and not rules.video_ratio[0] <= ratio <= rules.video_ratio[1]:
                problems.append(problem("video_ratio", _l("its shape is outside what is accepted.")))
    elif item.kind == "document":
        if not rules.documents_max:
            problems.append(problem("document", _l("documents cannot be posted on this network.")))
        elif rules.document_max_bytes and item.size > rules.document_max_bytes:
            problems.append(
                problem(
                    "document_size",
                    _l("the file weighs %(size)s; the limit is %(limit)s."),
                    size=_mb(item.size),
                    limit=_mb(rules.document_max_bytes),
                )
            )
    return problems


def _types(mimes: tuple[str, ...]) -> str:
    return ", ".join(m.split("/")[1].replace("quicktime", "mov").upper() for m in mimes)


def _mb(size: int) -> str:
    """A size in megabytes in the reader's locale: 4.0 MB, 4,0 Mo."""
    return str(_l("%(n)s MB", n=format_decimal(size / MB, format="#,##0.0")))
