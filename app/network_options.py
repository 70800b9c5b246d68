"""Each network's own settings of a post (issue 12, point 2; docs/network-options.md).

A network's version (app/versions.py) carries `options`, a dict stored in `ObjectVariant.options`.
This module is their single description: what each network offers (`OPTIONS`), how a form's
fields are read and checked (`parse`), what would make the network refuse the post at submission
(`problems`), how they read in a preview or on a card (`describe`), the full set sent in the
payload (`payload_options`, docs/external-apis.md §4.1) and which ones the project's Make
scenarios pass on to the network (`SUPPORTED`, evidence in docs/make-modules.md).

Only values that differ from the option's default are stored, so a network whose options are
all left alone keeps no version row of its own; `effective()` fills the defaults back in.
The sources of every rule are listed in docs/network-options.md; where no public evidence
settles a value, it says so there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from flask_babel import format_decimal, lazy_gettext as _l

from app.models import MediaKind, Platform
from app.networks import Problem


@dataclass(frozen=True)
class Option:
    """One setting of a network. `kind`: text, textarea, choice, bool, seconds (stored in
    milliseconds), tags (a list of text), alt_texts (a text per image, by asset id)."""

    name: str
    label: object
    kind: str
    default: object = None
    choices: tuple[tuple[str, object], ...] = ()
    required: bool = False
    max_length: int | None = None
    hint: object = None
    check: Callable[[object], str | None] | None = None


def _no_angle_brackets(value) -> str | None:
    if isinstance(value, str) and re.search(r"[<>]", value):
        return str(_l("The characters < and > are not accepted."))
    return None


def tags_length(tags: list[str]) -> int:
    """YouTube's count of a tag list: the commas between tags count, and a tag holding a space
    counts as if it were in quotation marks (two more characters) (docs/network-options.md)."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(len(tags) - 1, 0)


YOUTUBE_TAGS_MAX = 500


X_REPLY_MAX = 280


def _check_x_reply(text) -> str | None:
    """A reply is a post of its own: X's 280, counted X's way (app/text_count.py)."""
    from app.text_count import length

    counted = length(text or "", "x_weighted")
    if counted > X_REPLY_MAX:
        return str(_l("%(length)d characters; %(limit)d at most.", length=counted, limit=X_REPLY_MAX))
    return None


def _check_tags(tags) -> str | None:
    length = tags_length(tags or [])
    if length > YOUTUBE_TAGS_MAX:
        return str(
            _l(
                "The tags add up to %(length)d characters (commas included); YouTube accepts %(limit)d.",
                length=length,
                limit=YOUTUBE_TAGS_MAX,
            )
        )
    if any(re.search(r"[<>]", tag) for tag in tags or []):
        return str(_l("The characters < and > are not accepted."))
    return None


YOUTUBE_CATEGORIES = (
    ("1", _l("Film & Animation")),
    ("2", _l("Autos & Vehicles")),
    ("10", _l("Music")),
    ("15", _l("Pets & Animals")),
    ("17", _l("Sports")),
    ("19", _l("Travel & Events")),
    ("20", _l("Gaming")),
    ("22", _l("People & Blogs")),
    ("23", _l("Comedy")),
    ("24", _l("Entertainment")),
    ("25", _l("News & Politics")),
    ("26", _l("Howto & Style")),
    ("27", _l("Education")),
    ("28", _l("Science & Technology")),
    ("29", _l("Nonprofits & Activism")),
)

INSTAGRAM_FORMATS = ("auto", "feed", "carousel", "reel", "story")
FACEBOOK_FORMATS = ("post", "reel", "story")
TIKTOK_PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")

# Each network's rules and their sources: docs/network-options.md, one section per network.
OPTIONS: dict[Platform, list[Option]] = {
    # docs/network-options.md §1.1 (YouTube Data API, videos resource and videos.insert)
    Platform.YOUTUBE: [
        Option(
            "title",
            _l("Video title"),
            "text",
            required=True,
            max_length=100,
            hint=_l("Required by YouTube, 100 characters at most, without < or >."),
            check=_no_angle_brackets,
        ),
        Option(
            "privacy",
            _l("Visibility"),
            "choice",
            default="public",
            choices=(("public", _l("Public")), ("unlisted", _l("Unlisted")), ("private", _l("Private"))),
        ),
        Option("category", _l("Category"), "choice", default="22", choices=YOUTUBE_CATEGORIES),
        Option(
            "made_for_kids",
            _l("Made for kids"),
            "bool",
            default=False,
            hint=_l("Declare it if the video is made for children (a legal obligation)."),
        ),
        Option("notify_subscribers", _l("Notify subscribers"), "bool", default=True),
        Option(
            "tags",
            _l("Tags"),
            "tags",
            default=[],
            hint=_l("Separated by commas; 500 characters in all, commas included."),
            check=_check_tags,
        ),
        Option(
            "first_comment",
            _l("First comment"),
            "textarea",
            max_length=10_000,
            hint=_l("Posted as a comment right after the post."),
        ),
    ],
    # docs/network-options.md §1.2 (Instagram Graph API, ig-user/media)
    Platform.INSTAGRAM: [
        Option(
            "format",
            _l("Format"),
            "choice",
            default="auto",
            choices=(
                ("auto", _l("Automatic (photo, or Reel for a video)")),
                ("feed", _l("Feed post")),
                ("carousel", _l("Carousel")),
                ("reel", _l("Reel")),
                ("story", _l("Story")),
            ),
        ),
        Option(
            "first_comment",
            _l("First comment"),
            "textarea",
            max_length=2_200,
            hint=_l("Posted as a comment right after the post; 2,200 characters at most."),
        ),
        Option(
            "cover_frame_ms",
            _l("Reel cover frame (seconds into the video)"),
            "seconds",
            hint=_l("For a Reel: the moment of the video shown as its cover, e.g. 2.5."),
        ),
        Option("share_to_feed", _l("Also show the Reel in the feed"), "bool", default=True),
    ],
    # docs/network-options.md §1.3
    Platform.FACEBOOK: [
        Option(
            "format",
            _l("Format"),
            "choice",
            default="post",
            choices=(("post", _l("Post")), ("reel", _l("Reel")), ("story", _l("Story"))),
        ),
        Option(
            "first_comment",
            _l("First comment"),
            "textarea",
            max_length=8_000,
            hint=_l("Posted as a comment right after the post."),
        ),
    ],
    # docs/network-options.md §1.4 (LinkedIn Posts API; the Make modules' enums)
    Platform.LINKEDIN: [
        Option(
            "visibility",
            _l("Visibility"),
            "choice",
            default="PUBLIC",
            choices=(
                ("PUBLIC", _l("Anyone")),
                ("CONNECTIONS", _l("Connections only")),
                ("LOGGED_IN", _l("Signed-in LinkedIn members")),
            ),
        ),
        Option(
            "alt_texts",
            _l("Image descriptions (alt text) for LinkedIn"),
            "alt_texts",
            default={},
            max_length=4_086,
            hint=_l("Leave empty to use the image's own alt text from the library."),
        ),
        Option(
            "first_comment",
            _l("First comment"),
            "textarea",
            max_length=1_250,
            hint=_l("Posted as a comment right after the post; 1,250 characters at most."),
        ),
    ],
    # docs/network-options.md §1.5 (Content Posting API and its content sharing guidelines)
    Platform.TIKTOK: [
        Option(
            "privacy_level",
            _l("Who can watch"),
            "choice",
            required=True,
            choices=(
                ("PUBLIC_TO_EVERYONE", _l("Everyone")),
                ("MUTUAL_FOLLOW_FRIENDS", _l("Friends")),
                ("FOLLOWER_OF_CREATOR", _l("Followers")),
                ("SELF_ONLY", _l("Only the account")),
            ),
        ),
        Option("allow_comments", _l("Allow comments"), "bool", default=False),
        Option("allow_duet", _l("Allow duets"), "bool", default=False),
        Option("allow_stitch", _l("Allow stitches"), "bool", default=False),
    ],
    # docs/network-options.md §1.6 (POST /2/tweets)
    Platform.X: [
        Option(
            "reply_settings",
            _l("Who can reply"),
            "choice",
            default="everyone",
            choices=(
                ("everyone", _l("Everyone")),
                ("following", _l("Accounts the account follows")),
                ("mentionedUsers", _l("Only accounts mentioned in the post")),
            ),
        ),
        Option(
            "first_comment",
            _l("First reply"),
            "textarea",
            hint=_l("Posted by the account as a reply to its own post; 280 characters counted X's way."),
            check=_check_x_reply,
        ),
    ],
}

# What the form says beside a network's options, once.
NOTES = {
    # The description is the version's own text, counted in bytes (app/networks.py RULES).
    Platform.YOUTUBE: _l("The video's description is this network's text: 5,000 bytes at most, as its counter shows."),
}

# Which options the project's Make scenarios pass on to the network (docs/make-modules.md, the
# modules' parameters; app/integrations/blueprints/networks.py maps them). False: no public
# evidence of a module parameter taking it, so the scenario cannot pass it on and the form and
# the preview say so. X and TikTok publish through a template scenario built by the account's
# owner (no public Make module): the payload carries their options, the template decides.
SUPPORTED: dict[Platform, dict[str, bool]] = {
    Platform.YOUTUBE: {
        "title": True,
        "privacy": True,
        "category": True,
        "made_for_kids": True,
        "notify_subscribers": False,
        "tags": False,
        "first_comment": False,
    },
    Platform.INSTAGRAM: {"format": True, "first_comment": False, "cover_frame_ms": True, "share_to_feed": True},
    Platform.FACEBOOK: {"format": True, "first_comment": False},
    Platform.LINKEDIN: {"visibility": True, "alt_texts": True, "first_comment": False},
}
# Formats the project's scenarios publish (docs/make-modules.md, "Networks"); another one is
# refused at submission rather than published as something else.
SUPPORTED_FORMATS: dict[Platform, tuple[str, ...]] = {
    Platform.INSTAGRAM: ("auto", "feed", "reel"),
    Platform.FACEBOOK: ("post",),
}
TEMPLATE_PLATFORMS = frozenset({Platform.X, Platform.TIKTOK})
# Why, in the form and the preview (docs/make-modules.md, "Networks").
WHY_UNSUPPORTED = {
    (Platform.YOUTUBE, "notify_subscribers"): _l("the Make module “Upload a video” has no field for it."),
    (Platform.YOUTUBE, "tags"): _l("the Make module “Upload a video” has no field for it."),
    (Platform.INSTAGRAM, "first_comment"): _l("no Make module that posts a comment is shipped."),
    (Platform.FACEBOOK, "first_comment"): _l("no Make module that posts a comment is shipped."),
    (Platform.LINKEDIN, "first_comment"): _l("no Make module that posts a comment is shipped."),
    (Platform.YOUTUBE, "first_comment"): _l("no Make module that posts a comment is shipped."),
    (Platform.INSTAGRAM, "format"): _l("no Make module publishes this format."),
    (Platform.FACEBOOK, "format"): _l("no Make module publishes this format."),
}


def options_of(platform: Platform) -> list[Option]:
    return OPTIONS.get(platform, [])


def option(platform: Platform, name: str) -> Option | None:
    return next((o for o in options_of(platform) if o.name == name), None)


def effective(platform: Platform, options: dict | None) -> dict:
    """Every option of the network: the stored value, else the default."""
    options = options or {}
    return {o.name: options.get(o.name, _copy(o.default)) for o in options_of(platform)}


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def compact(platform: Platform, values: dict) -> dict:
    """What is stored: the values that differ from their default (unknown keys dropped)."""
    known = {o.name: o for o in options_of(platform)}
    return {
        name: value
        for name, value in values.items()
        if name in known and value != known[name].default and value not in (None, "")
    }


MARKER = "shown"
_TRUE = {"1", "on", "y", "yes", "true"}


def parse(platform: Platform, formdata, prefix: str | None = None) -> tuple[dict, dict[str, str]]:
    """Read the network's option fields (`<prefix><name>`) from a form. Returns the values to
    store (defaults left out, see `compact`) and the errors by option name, in the reader's
    language. A box left unticked is False only when the form showed the fields (its hidden
    `<prefix>shown` field): a form that did not show them leaves every box at its default."""
    prefix = f"options-{platform.value}-" if prefix is None else prefix
    shown = formdata.get(prefix + MARKER) is not None
    values, errors = {}, {}
    for o in options_of(platform):
        key = prefix + o.name
        if o.kind == "bool":
            value = (str(formdata.get(key, "")).lower() in _TRUE) if shown else o.default
        elif o.kind == "choice":
            value = (formdata.get(key) or "").strip()
            if value and value not in {code for code, _ in o.choices}:
                errors[o.name] = str(_l("Choose one of the values offered."))
                value = ""
        elif o.kind == "seconds":
            raw = (formdata.get(key) or "").strip().replace(",", ".").removesuffix("s").strip()
            value = None
            if raw:
                try:
                    seconds = float(raw)
                except ValueError:
                    seconds = -1
                if not 0 <= seconds < 24 * 3600:
                    errors[o.name] = str(_l("Enter a time in seconds, e.g. 2.5."))
                else:
                    value = round(seconds * 1000)
        elif o.kind == "tags":
            raw = formdata.get(key) or ""
            value = list(dict.fromkeys(t.strip().lstrip("#").strip() for t in raw.split(",") if t.strip()))
        elif o.kind == "alt_texts":
            value = {}
            for name in formdata.keys():
                if name.startswith(key + "-"):
                    asset_id = name[len(key) + 1 :]
                    text = (formdata.get(name) or "").strip()
                    if asset_id.isdigit() and text:
                        value[asset_id] = text
        else:
            value = (formdata.get(key) or "").strip()
        error = _check(o, value)
        if error and o.name not in errors:
            errors[o.name] = error
        values[o.name] = value
    return compact(platform, values), errors


def _check(o: Option, value) -> str | None:
    """What is wrong with one value (None: nothing). A required option's absence is not an
    error of the form (a draft may wait for it): `problems` refuses the submission."""
    if value in (None, "", [], {}):
        return None
    if o.max_length and isinstance(value, str) and len(value) > o.max_length:
        return str(_l("%(length)d characters; %(limit)d at most.", length=len(value), limit=o.max_length))
    if o.kind == "alt_texts" and o.max_length:
        for text in value.values():
            if len(text) > o.max_length:
                return str(_l("%(length)d characters; %(limit)d at most.", length=len(text), limit=o.max_length))
    if o.check:
        return o.check(value)
    return None


def problems(platform: Platform, options: dict | None, version=None) -> list[Problem]:
    """What would make the network (or the project's scenario) refuse this version at
    submission, with its options: a YouTube video without a title, a Reel of a photo, a cover
    frame past the end of the video… `version` (app/versions.Version) gives the media."""
    found: list[Problem] = []
    stored = options or {}
    values = effective(platform, stored)
    label = {o.name: o.label for o in options_of(platform)}
    for o in options_of(platform):
        value = values[o.name]
        if o.required and value in (None, "", [], {}):
            found.append(
                Problem(
                    f"option_{o.name}_missing",
                    str(
                        _l(
                            "%(network)s needs this setting: %(option)s.",
                            network=_network(platform),
                            option=label[o.name],
                        )
                    ),
                )
            )
            continue
        if o.kind == "choice" and value and value not in {code for code, _ in o.choices}:
            found.append(
                Problem(
                    f"option_{o.name}_invalid",
                    str(_l("%(option)s: choose one of the values offered.", option=label[o.name])),
                )
            )
            continue
        error = _check(o, value)
        if error:
            found.append(Problem(f"option_{o.name}_invalid", _line(label[o.name], error)))
    media = list(getattr(version, "media", None) or [])
    videos = [a for a in media if a.kind is MediaKind.VIDEO]
    images = [a for a in media if a.kind is MediaKind.IMAGE]
    if platform is Platform.INSTAGRAM:
        found += _instagram(values, media, videos, images)
    elif platform is Platform.FACEBOOK:
        fmt = values["format"]
        if fmt == "reel" and (len(media) != 1 or len(videos) != 1):
            found.append(Problem("option_format_reel", str(_l("A Reel is exactly one video."))))
        if fmt == "story" and len(media) != 1:
            found.append(Problem("option_format_story", str(_l("A story is one photo or one video."))))
    elif platform is Platform.LINKEDIN:
        # Without media the scenario posts a text or link share (app/integrations/blueprints/).
        if values["visibility"] == "CONNECTIONS" and not media:
            found.append(
                Problem(
                    "option_visibility_text",
                    str(
                        _l(
                            "LinkedIn's text and link posts offer “Anyone” or “Signed-in LinkedIn members” only: "
                            "choose one of them, or add an image."
                        )
                    ),
                )
            )
    if platform in SUPPORTED_FORMATS and values.get("format") not in SUPPORTED_FORMATS[platform]:
        found.append(
            Problem(
                "option_format_unsupported",
                str(_l("The Make scenario cannot publish this format (no Make module for it): choose another format.")),
            )
        )
    return found


def _instagram(values: dict, media: list, videos: list, images: list) -> list[Problem]:
    found = []
    fmt = values["format"]
    if fmt == "reel" and (len(media) != 1 or len(videos) != 1):
        found.append(Problem("option_format_reel", str(_l("A Reel is exactly one video."))))
    if fmt == "carousel" and not 2 <= len(media) <= 10:
        found.append(Problem("option_format_carousel", str(_l("A carousel holds 2 to 10 photos or videos."))))
    if fmt == "story" and len(media) != 1:
        found.append(Problem("option_format_story", str(_l("A story is one photo or one video."))))
    if fmt == "feed" and videos:
        found.append(
            Problem(
                "option_format_feed_video",
                str(_l("Instagram publishes a video as a Reel: choose Reel (or Automatic).")),
            )
        )
    cover = values.get("cover_frame_ms")
    is_reel = fmt == "reel" or (fmt == "auto" and media and media[0].kind is MediaKind.VIDEO)
    if cover is not None and is_reel and videos and videos[0].duration_s is not None:
        duration = float(videos[0].duration_s)
        if cover / 1000 > duration:
            found.append(
                Problem(
                    "option_cover_frame_ms_outside",
                    str(
                        _l(
                            "The cover frame is at %(at)s s but the video lasts %(duration)s s.",
                            at=_seconds(cover),
                            duration=_seconds(duration * 1000),
                        )
                    ),
                )
            )
    return found


def _seconds(ms) -> str:
    """Milliseconds as seconds in the reader's locale: 2.5, 2,5."""
    return format_decimal(ms / 1000, format="0.###")


def _line(option, value) -> str:
    return str(_l("%(option)s: %(value)s", option=option, value=value))


def _network(platform: Platform) -> str:
    from app.labels import platform_label

    return platform_label(platform)


def _shown(o: Option, value) -> str:
    if o.kind == "bool":
        return str(_l("yes") if value else _l("no"))
    if o.kind == "choice":
        return str(dict(o.choices).get(value, value))
    if o.kind == "seconds":
        return str(_l("%(s)s s", s=_seconds(value)))
    if o.kind == "tags":
        return ", ".join(value)
    if o.kind == "alt_texts":
        return str(_l("images described: %(count)d", count=len(value)))
    return str(value)


def describe(platform: Platform, options: dict | None) -> list[str]:
    """The options as lines for a preview or a card ("Visibility: Unlisted"), defaults included
    for the choices that matter; each setting the Make scenario cannot pass on is followed by
    the plain statement of it, never dropped silently."""
    values = effective(platform, options)
    lines = []
    for o in options_of(platform):
        value = values[o.name]
        if value in (None, "", [], {}):
            if o.required:
                lines.append(str(_l("%(option)s: missing", option=o.label)))
            continue
        line = _line(o.label, _shown(o, value))
        # A default the scenario does not pass on is what the network does anyway (YouTube
        # notifies subscribers unless told otherwise): only a value chosen needs the warning.
        note = unsupported_note(platform, o.name, value) if value != o.default else None
        if note:
            line += " — " + note
        lines.append(line)
    return lines


def supported(platform: Platform, name: str, value=None) -> bool:
    """Whether the project's scenario passes the option (with this value) on to the network.
    Template networks (X, TikTok) receive every option in the payload: their scenario decides."""
    if platform in TEMPLATE_PLATFORMS:
        return True
    if name == "format" and value is not None and platform in SUPPORTED_FORMATS:
        return value in SUPPORTED_FORMATS[platform]
    return SUPPORTED.get(platform, {}).get(name, False)


def payload_options(platform: Platform, options: dict | None) -> dict:
    """The `options` object of the payload (docs/external-apis.md §4.1): every option of the
    network with its value or default, so a scenario never has to guess one."""
    return effective(platform, options)


def form_value(o: Option, value) -> str:
    """The text of an option's field for a stored value (seconds for a cover frame, tags
    separated by commas)."""
    if value in (None, [], {}):
        return ""
    if o.kind == "seconds":
        return _seconds(value)
    if o.kind == "tags":
        return ", ".join(value)
    return str(value)


def unsupported_note(platform: Platform, name: str, value=None) -> str | None:
    """What the form says under an option the Make scenario cannot pass on (None: it can)."""
    if supported(platform, name, value):
        return None
    why = WHY_UNSUPPORTED.get((platform, name), _l("no Make module parameter takes it."))
    return str(_l("Make does not pass this setting on: %(why)s", why=why))


def alt_text(version, asset) -> str:
    """The alt text a network receives for a file (the payload's `media[].alt_text`): LinkedIn's
    own text for that image when the version sets one, else the asset's."""
    own = (getattr(version, "options", None) or {}).get("alt_texts") or {}
    if getattr(version, "platform", None) is Platform.LINKEDIN and own.get(str(asset.id)):
        return own[str(asset.id)]
    return asset.alt_text or ""


# Checked again when the payload is built (app/publishing/payload.py): an edit after approval
# goes back to review without the submission's checks, and these would have the scenario publish
# something other than what was approved (a story as a feed photo) or fail at the network.
SEND_REFUSED = frozenset(
    {
        "option_format_unsupported",
        "option_format_reel",
        "option_format_carousel",
        "option_format_story",
        "option_format_feed_video",
        "option_visibility_text",
    }
)


class Refused(LookupError):
    """The version's options cannot be published as approved: the publication fails with this."""


def refuse_unpublishable(platform: Platform, version) -> None:
    found = [
        p.message for p in problems(platform, getattr(version, "options", None), version) if p.code in SEND_REFUSED
    ]
    if found:
        raise Refused(" ".join(found))
