"""A post's version per network (issue 12, point 1; docs/architecture.md §3.10).

A post has its base text, link and ordered media. For each network it targets, the editor may
override the text, the link and the media selection and order (`ObjectVariant`, one row per post
and network). A field a version does not override follows the base, so an edit of the base flows
into every version that leaves it alone. Versions are per network, not per account: two Facebook
pages of one post receive the same version (the networks' rules, previews and options are per
network).

Everything that reads what a network receives goes through `versions()` / `version()`: the
checks and previews, the approval fingerprint (app/publishing/outbox.py), the payload
(app/publishing/payload.py), the approver's card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    CampaignScenario,
    ContentObject,
    MediaAsset,
    ObjectMedia,
    ObjectVariant,
    Platform,
    SocialAccount,
    VariantMedia,
    object_targets,
)

# Networks whose scenario posts the link as its own field (a link card), and only in a post
# without files: the blueprints map `link` in Facebook's CreatePost and LinkedIn's article share,
# their photo and image posts take none (app/integrations/blueprints/networks.py). Elsewhere only
# the text is posted.
LINK_CARD = frozenset({Platform.FACEBOOK, Platform.LINKEDIN})


class _Keep:
    """Leave the field as it is (distinct from None, which means "follow the base")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass
class Version:
    """What one network receives: the base with this network's overrides applied."""

    platform: Platform
    message: str
    link: str | None
    media: list[MediaAsset]
    options: dict = field(default_factory=dict)
    crops: dict = field(default_factory=dict)
    overridden: frozenset[str] = frozenset()

    def overrides(self, name: str) -> bool:
        return name in self.overridden

    @property
    def media_ids(self) -> list[int]:
        return [asset.id for asset in self.media]

    @property
    def posts_link(self) -> bool:
        """Whether the network's scenario posts this version's link (as a link card)."""
        return self.platform in LINK_CARD and not self.media

    @property
    def files_drop_link(self) -> bool:
        """A link-card network whose version has files: its photo or image post takes no link."""
        return self.platform in LINK_CARD and bool(self.media)


def target_platforms(obj: ContentObject) -> list[Platform]:
    """The networks the post targets, each once, in the order of `Platform`."""
    found = set(
        db.session.scalars(
            sa.select(SocialAccount.platform)
            .join(CampaignScenario, CampaignScenario.social_account_id == SocialAccount.id)
            .join(object_targets, object_targets.c.campaign_scenario_id == CampaignScenario.id)
            .where(object_targets.c.object_id == obj.id)
        )
    )
    return [platform for platform in Platform if platform in found]


def variants(obj: ContentObject) -> dict[Platform, ObjectVariant]:
    return {
        row.platform: row
        for row in db.session.scalars(sa.select(ObjectVariant).where(ObjectVariant.object_id == obj.id))
    }


def _base_media(obj: ContentObject) -> list[MediaAsset]:
    return list(
        db.session.scalars(
            sa.select(MediaAsset)
            .join(ObjectMedia, ObjectMedia.media_asset_id == MediaAsset.id)
            .where(ObjectMedia.object_id == obj.id)
            .order_by(ObjectMedia.position)
        )
    )


def _variant_media(obj: ContentObject) -> dict[Platform, list[MediaAsset]]:
    grouped: dict[Platform, list[MediaAsset]] = {}
    rows = db.session.execute(
        sa.select(VariantMedia.platform, MediaAsset)
        .join(MediaAsset, MediaAsset.id == VariantMedia.media_asset_id)
        .where(VariantMedia.object_id == obj.id)
        .order_by(VariantMedia.platform, VariantMedia.position)
    ).all()
    for platform, asset in rows:
        grouped.setdefault(platform, []).append(asset)
    return grouped


def _compose(
    obj: ContentObject,
    platform: Platform,
    variant: ObjectVariant | None,
    base_media: list[MediaAsset],
    own_media: list[MediaAsset],
) -> Version:
    if variant is None:
        return Version(platform, obj.message or "", obj.link, list(base_media))
    overridden = set()
    if variant.message is not None:
        overridden.add("message")
    if variant.link is not None:
        overridden.add("link")
    if variant.media_overridden:
        overridden.add("media")
    return Version(
        platform,
        variant.message if variant.message is not None else (obj.message or ""),
        (variant.link or None) if variant.link is not None else obj.link,
        list(own_media) if variant.media_overridden else list(base_media),
        dict(variant.options or {}),
        dict(variant.crops or {}),
        frozenset(overridden),
    )


def versions(
    obj: ContentObject, base_media: list[MediaAsset] | None = None, platforms: list[Platform] | None = None
) -> dict[Platform, Version]:
    """One version per targeted network (or per network of `platforms`), in `Platform` order."""
    platforms = target_platforms(obj) if platforms is None else platforms
    base_media = _base_media(obj) if base_media is None else base_media
    rows = variants(obj)
    own = _variant_media(obj) if any(row.media_overridden for row in rows.values()) else {}
    return {
        platform: _compose(obj, platform, rows.get(platform), base_media, own.get(platform, []))
        for platform in platforms
    }


def version(obj: ContentObject, platform: Platform, base_media: list[MediaAsset] | None = None) -> Version:
    return versions(obj, base_media, [platform])[platform]


def save(
    obj: ContentObject, platform: Platform, *, message=KEEP, link=KEEP, media=KEEP, options=KEEP, crops=KEEP
) -> dict:
    """Set this network's overrides: None follows the base again (for `media` too), a value
    overrides it (an empty string or list included). Returns what changed, for the audit trail;
    a version left with nothing of its own is deleted."""
    variant = db.session.get(ObjectVariant, (obj.id, platform))
    if variant is None:
        variant = ObjectVariant(object_id=obj.id, platform=platform, options={}, crops={}, media_overridden=False)
        db.session.add(variant)
    changed: dict = {}
    if message is not KEEP and variant.message != message:
        variant.message = message
        changed["message"] = message
    if link is not KEEP:
        link = None if link is None else (link or "").strip()
        if variant.link != link:
            variant.link = link
            changed["link"] = link
    if options is not KEEP and (variant.options or {}) != (options or {}):
        variant.options = dict(options or {})
        changed["options"] = variant.options
    if crops is not KEEP and (variant.crops or {}) != (crops or {}):
        variant.crops = dict(crops or {})
        changed["crops"] = variant.crops
    if media is not KEEP:
        current = (
            list(
                db.session.scalars(
                    sa.select(VariantMedia.media_asset_id)
                    .where(VariantMedia.object_id == obj.id, VariantMedia.platform == platform)
                    .order_by(VariantMedia.position)
                )
            )
            if variant.media_overridden
            else None
        )
        wanted = None if media is None else list(dict.fromkeys(media))
        if current != wanted:
            db.session.flush()
            db.session.execute(
                sa.delete(VariantMedia).where(VariantMedia.object_id == obj.id, VariantMedia.platform == platform)
            )
            variant.media_overridden = wanted is not None
            if wanted:
                db.session.execute(
                    sa.insert(VariantMedia),
                    [
                        {"object_id": obj.id, "platform": platform, "media_asset_id": asset_id, "position": n}
                        for n, asset_id in enumerate(wanted)
                    ],
                )
            changed["media"] = wanted
    if (
        variant.message is None
        and variant.link is None
        and not variant.media_overridden
        and not variant.options
        and not variant.crops
    ):
        if db.session.get(ObjectVariant, (obj.id, platform)) is not None:
            db.session.delete(variant)
    db.session.flush()
    return changed


def canonical(obj: ContentObject) -> dict:
    """What the approval fingerprint covers beyond the base post: each targeted network's own
    text, link, media (by content hash), options and crops. Empty when no version overrides
    anything, so a post without versions keeps the fingerprint it always had."""
    targeted = set(target_platforms(obj))
    rows = {platform: row for platform, row in variants(obj).items() if platform in targeted}
    if not rows:
        return {}
    own = _variant_media(obj)
    result = {}
    for platform, row in sorted(rows.items()):
        entry: dict = {}
        if row.message is not None:
            entry["message"] = row.message
        if row.link is not None:
            entry["link"] = row.link
        if row.media_overridden:
            entry["media"] = [[asset.id, asset.sha256] for asset in own.get(platform, [])]
        if row.options:
            entry["options"] = row.options
        if row.crops:
            entry["crops"] = row.crops
        result[platform.value] = entry
    return result


def posts_using(asset_id: int) -> sa.Select:
    """The ids of the posts that use an asset, in their base media or in a network's own."""
    return sa.union(
        sa.select(ObjectMedia.object_id).where(ObjectMedia.media_asset_id == asset_id),
        sa.select(VariantMedia.object_id).where(VariantMedia.media_asset_id == asset_id),
    )


def by_object(
    objs: list[ContentObject], platforms: dict[int, list[Platform]], base_media: dict[int, list[MediaAsset]]
) -> dict[int, dict[Platform, Version]]:
    """The versions of several posts at once, for the networks given per post (in `Platform`
    order) over the base media already read: two queries whatever the number of posts (the
    approver's queue shows twenty cards)."""
    ids = [obj.id for obj in objs]
    rows: dict[int, dict[Platform, ObjectVariant]] = {}
    for row in db.session.scalars(sa.select(ObjectVariant).where(ObjectVariant.object_id.in_(ids))):
        rows.setdefault(row.object_id, {})[row.platform] = row
    own: dict[tuple[int, Platform], list[MediaAsset]] = {}
    if any(row.media_overridden for found in rows.values() for row in found.values()):
        for object_id, platform, asset in db.session.execute(
            sa.select(VariantMedia.object_id, VariantMedia.platform, MediaAsset)
            .join(MediaAsset, MediaAsset.id == VariantMedia.media_asset_id)
            .where(VariantMedia.object_id.in_(ids))
            .order_by(VariantMedia.object_id, VariantMedia.platform, VariantMedia.position)
        ).all():
            own.setdefault((object_id, platform), []).append(asset)
    result = {}
    for obj in objs:
        wanted = set(platforms.get(obj.id, []))
        result[obj.id] = {
            platform: _compose(
                obj,
                platform,
                rows.get(obj.id, {}).get(platform),
                base_media.get(obj.id, []),
                own.get((obj.id, platform), []),
            )
            for platform in Platform
            if platform in wanted
        }
    return result
