"""What each network's publish route holds: its modules, mapped as public exports map them
(every module id, version and field is sourced in docs/make-modules.md).

A network has one or more variants (a route each, chosen by a filter on the payload); a
variant is a list of steps, the last one named ``post`` being the one whose output ``id`` is
the post's id. In a step, ``@{name}`` stands for the id of the step called ``name`` (the
builder numbers the modules); ``"@{name}"`` alone, as a whole value, becomes the id itself.

X and TikTok have no entry: no public export shows a Make module that publishes to them, so
the repository ships none and their accounts publish through a template scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    name: str
    module: str
    version: int
    mapper: dict
    parameters: dict = field(default_factory=dict)
    connected: bool = False  # bound to the account's Make connection (__IMTCONN__)
    fails: bool = False  # can fail: its error route calls back "failed"


@dataclass(frozen=True)
class Variant:
    label: str
    conditions: tuple  # AND-ed with "not published yet" and "not a dry run"
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Network:
    platform: str
    connection_types: tuple[str, ...]  # the accountName of a Make connection it accepts
    external_url: str | None  # IML of the post's address, from @{post}.id
    variants: tuple[Variant, ...]


def _condition(a: str, operator: str, b: str | None = None) -> dict:
    return {"a": a, "o": operator} if b is None else {"a": a, "b": b, "o": operator}


HAS_MEDIA = _condition("{{length(1.media)}}", "number:greater", "0")
NO_MEDIA = _condition("{{length(1.media)}}", "number:equal", "0")
FIRST_IS_VIDEO = _condition("{{1.media[1].mime}}", "text:contain", "video/")
FIRST_NOT_VIDEO = _condition("{{1.media[1].mime}}", "text:notcontain", "video/")
FIRST_URL = "{{1.media[1].url}}"


def _publish(module: str, version: int, mapper: dict) -> Step:
    return Step("post", module, version, mapper, connected=True, fails=True)


FACEBOOK = Network(
    "facebook",
    ("facebook",),
    "https://www.facebook.com/{{@{post}.id}}",
    (
        Variant(
            "Text or link post",
            (NO_MEDIA,),
            (
                _publish(
                    "facebook-pages:CreatePost",
                    6,
                    {"page_id": "{{1.account_identifier}}", "message": "{{1.text}}", "link": "{{1.link}}"},
                ),
            ),
        ),
        Variant(
            "Post with photos",
            (HAS_MEDIA,),
            (
                # The photos array is built as an export builds it: an iterator over the payload's media,
                # aggregated into {type, url} items (Dr-Halima export aggregates {type, data, fileName}).
                Step("photo", "builtin:BasicFeeder", 1, {"array": "{{1.media}}"}),
                Step(
                    "photos",
                    "builtin:BasicAggregator",
                    1,
                    {"type": "url", "url": "{{@{photo}.url}}"},
                    parameters={"feeder": "@{photo}"},
                ),
                _publish(
                    "facebook-pages:CreatePostWithPhotos",
                    6,
                    {"page_id": "{{1.account_identifier}}", "message": "{{1.text}}", "photos": "{{@{photos}.array}}"},
                ),
            ),
        ),
    ),
)

INSTAGRAM = Network(
    "instagram",
    ("facebook",),
    None,
    (
        # CreatePostPhoto returns the media id only; its address needs another call (not shipped).
        Variant(
            "Photo post",
            (FIRST_NOT_VIDEO,),
            (
                _publish(
                    "instagram-business:CreatePostPhoto",
                    1,
                    {"accountId": "{{1.account_identifier}}", "image_url": FIRST_URL, "caption": "{{1.text}}"},
                ),
            ),
        ),
        Variant(
            "Reel",
            (FIRST_IS_VIDEO,),
            (
                # The Reel's options (docs/network-options.md §1.2): `thumb_offset` in milliseconds,
                # empty when the editor chose no cover frame (Instagram takes the first frame).
                _publish(
                    "instagram-business:CreateAReelPost",
                    1,
                    {
                        "accountId": "{{1.account_identifier}}",
                        "video_url": FIRST_URL,
                        "caption": "{{1.text}}",
                        "share_to_feed": "{{1.options.share_to_feed}}",
                        "thumb_offset": "{{1.options.cover_frame_ms}}",
                    },
                ),
            ),
        ),
    ),
)

_ORGANIZATION = 'urn:li:organization:{{replace(1.account_identifier; "urn:li:organization:"; "")}}'
# `visibility` is the version's option (docs/network-options.md §1.4): PUBLIC unless the
# editor chose otherwise; CONNECTIONS never reaches CreateTextShare (refused at submission).
_LINKEDIN_COMMON = {
    "organization": _ORGANIZATION,
    "content": "{{1.text}}",
    "visibility": "{{1.options.visibility}}",
    "feedDistribution": "MAIN_FEED",
    "isReshareDisabledByAuthor": False,
}

LINKEDIN = Network(
    "linkedin",
    ("linkedin2", "linkedin-openid"),
    "https://www.linkedin.com/feed/update/{{@{post}.id}}/",
    (
        Variant(
            "Image post",
            (HAS_MEDIA,),
            (
                _publish(
                    "linkedin:CreateCompanyImagePost",
                    2,
                    {
                        **_LINKEDIN_COMMON,
                        "method": "link",
                        "url": FIRST_URL,
                        # `altText` is optional (docs/make-modules.md, LOLIBA daily): the image's alt text
                        # for LinkedIn (the version's own, else the asset's; empty when neither has one,
                        # docs/external-apis.md §4.1).
                        "title": "{{1.object.title}}",
                        "altText": "{{1.media[1].alt_text}}",
                    },
                ),
            ),
        ),
        Variant(
            "Link post",
            (NO_MEDIA, _condition("{{1.link}}", "exist")),
            (
                _publish(
                    "linkedin:CreateTextShare",
                    2,
                    {
                        **_LINKEDIN_COMMON,
                        "type": "ARTICLE",
                        "media": {"originalUrl": "{{1.link}}", "title": "{{1.object.title}}"},
                    },
                ),
            ),
        ),
        Variant(
            "Text post",
            (NO_MEDIA, _condition("{{1.link}}", "notexist")),
            (_publish("linkedin:CreateTextShare", 2, _LINKEDIN_COMMON),),
        ),
    ),
)

YOUTUBE = Network(
    "youtube",
    ("youtube",),
    "https://www.youtube.com/watch?v={{@{post}.id}}",
    (
        Variant(
            "Video upload",
            (),
            (
                # youtube:uploadVideo takes the file's bytes: fetch the signed media URL first.
                Step(
                    "video",
                    "http:DownloadFile",
                    4,
                    {"url": FIRST_URL, "stopOnHttpError": True, "shareCookies": False},
                    parameters={"authenticationType": "noAuth"},
                    fails=True,
                ),
                # The video's options (docs/network-options.md §1.1): its own title (the post's title
                # only for a post approved before titles were asked for), visibility, category and
                # audience. Subscribers' notification and tags have no field here (make-modules.md).
                _publish(
                    "youtube:uploadVideo",
                    4,
                    {
                        "title": "{{ifempty(1.options.title; 1.object.title)}}",
                        "description": "{{1.text}}",
                        "file": {"filename": "{{@{video}.fileName}}", "data": "{{@{video}.data}}"},
                        "privacyStatus": "{{1.options.privacy}}",
                        "categoryId": "{{1.options.category}}",
                        "madeForKids": "{{1.options.made_for_kids}}",
                        "containsAlteredMedia": False,
                    },
                ),
            ),
        ),
    ),
)

NETWORKS = {network.platform: network for network in (FACEBOOK, INSTAGRAM, LINKEDIN, YOUTUBE)}
