"""The post form's versions per network and its live preview (issue 12, points 1 and 4;
docs/architecture.md §3.10).

Below the base (title, targets, then the base text, link and media), the form has a tab per
network of the campaign's targets; a network's tab shows only while one of its accounts is
ticked. Its fields, for a network `<p>` (a `Platform` value such as `x` or `linkedin`):

- `version-<p>` = `1`: the form carries this network's version. A form without it (a script,
  an older page) leaves the saved version as it is.
- `version-<p>-follow-message` = `1`: the text follows the base; without it,
  `version-<p>-message` is the network's own text (an empty text included).
- `version-<p>-link-mode`: `base` (follow the base link), `own` (`version-<p>-link`, checked as
  the base link is) or `none` (no link on this network).
- `version-<p>-media-mode`: `base` or `own`; `own` takes `version-<p>-media` (asset ids in
  order, the media picker's field), an empty selection included.
- `options-<p>-<name>`: the network's options (`app/network_options.py`), saved when the form
  showed them (`options-<p>-shown`), with or without the rest of the tab.

Only the networks of the ticked targets are saved (through `versions.save`); a network left
unticked keeps what it had. The live preview (`preview`) checks the form's current values the
way the post page checks the saved post (`objects.check_target`), without saving anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from app import audit, network_options, versions
from app.campaigns import objects
from app.campaigns.object_forms import link_error
from app.extensions import db
from app.models import CampaignScenario, ContentObject, MediaAsset, MediaStatus, Platform, SocialAccount

MESSAGE_MAX = 70_000
LINK_MODES = ("base", "own", "none")
MEDIA_MODES = ("base", "own")


@dataclass
class VersionForm:
    """One network's tab: what the form shows and sends for it."""

    platform: Platform
    follow_message: bool = True
    message: str = ""
    link_mode: str = "base"
    link: str = ""
    media_mode: str = "base"
    media: list[int] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    option_errors: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # message, link, media
    usable_media: list[int] = field(default_factory=list)
    options_shown: bool = False  # the form showed the options' fields (else they stay as saved)
    version_shown: bool = True  # the form showed the text, link and media (else they stay as saved)

    @property
    def prefix(self) -> str:
        return f"version-{self.platform.value}-"

    @property
    def options_prefix(self) -> str:
        return f"options-{self.platform.value}-"

    @property
    def overridden(self) -> bool:
        """Differs from the base in text, link or media (the tab's "modified" badge)."""
        return not self.follow_message or self.link_mode != "base" or self.media_mode != "base"

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.option_errors)

    def saved_values(self) -> dict:
        """The arguments of `versions.save`: None follows the base, a value overrides it."""
        values = (
            {
                "message": None if self.follow_message else self.message,
                "link": None if self.link_mode == "base" else ("" if self.link_mode == "none" else self.link.strip()),
                "media": None if self.media_mode == "base" else list(self.usable_media),
            }
            if self.version_shown
            else {}
        )
        if self.options_shown:
            values["options"] = dict(self.options)
        return values


def offered_platforms(scenarios: list[CampaignScenario]) -> list[Platform]:
    found = {scenario.social_account.platform for scenario in scenarios}
    return [platform for platform in Platform if platform in found]


def ticked_platforms(scenarios: list[CampaignScenario], ticked: list[int]) -> list[Platform]:
    found = {scenario.social_account.platform for scenario in scenarios if scenario.id in set(ticked or [])}
    return [platform for platform in Platform if platform in found]


def blank(platforms: list[Platform]) -> dict[Platform, VersionForm]:
    return {platform: VersionForm(platform) for platform in platforms}


def from_saved(obj: ContentObject, platforms: list[Platform]) -> dict[Platform, VersionForm]:
    """The tabs of a saved post: each network's overrides as they are stored."""
    saved = versions.versions(obj, platforms=platforms)
    result = {}
    for platform, version in saved.items():
        link_mode = "base" if not version.overrides("link") else "own" if version.link else "none"
        result[platform] = VersionForm(
            platform,
            follow_message=not version.overrides("message"),
            message=version.message if version.overrides("message") else "",
            link_mode=link_mode,
            link=version.link or "" if link_mode == "own" else "",
            media_mode="own" if version.overrides("media") else "base",
            media=version.media_ids if version.overrides("media") else [],
            options=dict(version.options),
        )
    return result


def parse(formdata: MultiDict, platforms: list[Platform], *, validate: bool = True) -> dict[Platform, VersionForm]:
    """The tabs the form sent (each network of `platforms` whose `version-<p>` field is there),
    read and, with `validate`, checked: the problems are on each `VersionForm`."""
    result = {}
    for platform in platforms:
        prefix = f"version-{platform.value}-"
        shown = bool(formdata.get(f"version-{platform.value}"))
        if not shown and formdata.get(f"options-{platform.value}-{network_options.MARKER}") is None:
            continue
        found = VersionForm(
            platform,
            follow_message=bool(formdata.get(prefix + "follow-message")),
            message=(formdata.get(prefix + "message") or "").replace("\r\n", "\n"),
            link_mode=formdata.get(prefix + "link-mode")
            if formdata.get(prefix + "link-mode") in LINK_MODES
            else "base",
            link=formdata.get(prefix + "link") or "",
            media_mode=formdata.get(prefix + "media-mode")
            if formdata.get(prefix + "media-mode") in MEDIA_MODES
            else "base",
            media=list(dict.fromkeys(_ints(formdata.getlist(prefix + "media")))),
            version_shown=shown,
        )
        if formdata.get(found.options_prefix + network_options.MARKER) is not None:
            found.options_shown = True
            found.options, found.option_errors = network_options.parse(platform, formdata, prefix=found.options_prefix)
        if validate and shown:
            _validate(found)
        else:
            found.usable_media = found.media
        result[platform] = found
    return result


def _ints(values: list[str]) -> list[int]:
    result = []
    for value in values:
        try:
            result.append(int(value))
        except (TypeError, ValueError):
            continue
    return result


def _validate(found: VersionForm) -> None:
    if found.follow_message and found.message.strip():
        # Only without JavaScript: the script empties the field while the tab follows the base.
        found.errors["message"] = [
            str(
                _l(
                    "You wrote a text for this network but “Use the base text” is ticked: "
                    "untick it to post this text, or empty the field."
                )
            )
        ]
    if not found.follow_message and len(found.message) > MESSAGE_MAX:
        found.errors["message"] = [str(_l("This text is too long: %(max)d characters at most.", max=MESSAGE_MAX))]
    if found.link_mode == "own":
        problem = (
            link_error(found.link)
            if found.link.strip()
            else _l("Enter this network's link, or choose to follow the base or to post no link.")
        )
        if problem:
            found.errors["link"] = [str(problem)]
    if found.media_mode == "own":
        found.usable_media, problems = objects.usable_media(found.media)
        if problems:
            found.errors["media"] = problems


def save(obj: ContentObject, forms: dict[Platform, VersionForm], platforms: list[Platform], *, actor) -> dict:
    """Save the tabs of the ticked networks (`platforms`) through `versions.save`, recorded in the
    audit trail; returns what changed per network. The caller sends an approved post back to
    review when something changed, as an edit of the base does."""
    changed = {}
    for platform in platforms:
        found = forms.get(platform)
        if found is None:
            continue
        diff = versions.save(obj, platform, **found.saved_values())
        if diff:
            changed[platform.value] = diff
    if changed:
        audit.record("object_versions_updated", obj, actor=actor, data=changed)
    return changed


@dataclass
class PreviewPost:
    """What the shared previews (campaigns/_previews.html) read from the post, from the form."""

    id: int | None
    link: str | None
    message: str


def preview(campaign, scenarios: list[CampaignScenario], formdata: MultiDict, obj: ContentObject | None = None):
    """The previews of what the form holds now, one per ticked target, checked as the post page
    checks the saved post; nothing is written. Returns (checks, base media, post-like values)."""
    offered = {scenario.id for scenario in scenarios}
    ticked = [i for i in _ints(formdata.getlist("targets")) if i in offered]
    base_ids = list(dict.fromkeys(_ints(formdata.getlist("media_ids"))))
    forms = parse(formdata, offered_platforms(scenarios), validate=False)
    wanted = set(base_ids) | {i for found in forms.values() for i in found.media}
    assets = (
        {
            asset.id: asset
            for asset in db.session.scalars(
                sa.select(MediaAsset).where(MediaAsset.id.in_(wanted), MediaAsset.status == MediaStatus.READY)
            )
        }
        if wanted
        else {}
    )
    base_media = [assets[i] for i in base_ids if i in assets]
    message = (formdata.get("message") or "").replace("\r\n", "\n")
    link = (formdata.get("link") or "").strip() or None
    rows = (
        db.session.execute(
            sa.select(CampaignScenario, SocialAccount)
            .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
            .where(CampaignScenario.id.in_(ticked))
            .order_by(SocialAccount.platform, SocialAccount.label)
        ).all()
        if ticked
        else []
    )
    made = {}
    saved = versions.variants(obj) if obj is not None else {}  # the crops moved on the post page
    for platform in {account.platform for _, account in rows}:
        found = forms.get(platform) or VersionForm(platform)
        made[platform] = versions.Version(
            platform,
            message if found.follow_message else found.message,
            link if found.link_mode == "base" else (found.link.strip() or None if found.link_mode == "own" else None),
            base_media if found.media_mode == "base" else [assets[i] for i in found.media if i in assets],
            dict(found.options),
            dict(saved[platform].crops or {}) if platform in saved else {},
            overridden=frozenset(
                name
                for name, own in (
                    ("message", not found.follow_message),
                    ("link", found.link_mode != "base"),
                    ("media", found.media_mode != "base"),
                )
                if own
            ),
        )
    checks = [objects.check_target(scenario, account, made[account.platform]) for scenario, account in rows]
    return checks, base_media, PreviewPost(obj.id if obj else None, link, message)


def media_of(forms: dict[Platform, VersionForm], base_ids: list[int]) -> dict[Platform, list[MediaAsset]]:
    """Each tab's files (its own, or the base's), for the options that are per file (alt texts)."""
    wanted = set(base_ids) | {i for found in forms.values() for i in found.media}
    assets = (
        {a.id: a for a in db.session.scalars(sa.select(MediaAsset).where(MediaAsset.id.in_(wanted)))} if wanted else {}
    )
    return {
        platform: [assets[i] for i in (found.media if found.media_mode == "own" else base_ids) if i in assets]
        for platform, found in forms.items()
    }


def alt_texts_fields(platform_value: str, obj: ContentObject | None, formdata: MultiDict) -> dict | None:
    """What campaigns/_alt_texts.html needs to draw a network's per-image alt-text fields from
    the form as it is now (the tab's images, the texts typed, the post's stored ones), or None
    when the network has no such option."""
    platform = next((p for p in Platform if p.value == platform_value), None)
    option = (
        next((o for o in network_options.options_of(platform) if o.kind == "alt_texts"), None) if platform else None
    )
    if option is None:
        return None
    saved = versions.variants(obj) if obj is not None else {}
    stored = (saved[platform].options or {}).get(option.name) if platform in saved else None
    field = f"options-{platform.value}-{option.name}"
    return {
        "platform": platform,
        "o": option,
        "id": field,
        "images": tab_images(formdata, platform),
        "typed": formdata,
        "saved": stored or {},
        "described": f"{field}-hint" if option.hint else "",
    }


def tab_images(formdata: MultiDict, platform: Platform) -> list[MediaAsset]:
    """The images of a network's tab as the form holds them now (its own files, or the base's
    while it follows them): the per-image alt texts are asked for these."""
    found = parse(formdata, [platform], validate=False).get(platform) or VersionForm(platform)
    base_ids = list(dict.fromkeys(_ints(formdata.getlist("media_ids"))))
    return [asset for asset in media_of({platform: found}, base_ids)[platform] if asset.kind.value == "image"]
