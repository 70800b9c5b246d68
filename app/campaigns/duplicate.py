"""Duplicate a post into its campaign or another active one (issue 12, point 5;
docs/architecture.md §3.11).

The copy is a new draft by whoever duplicates it, titled "… (copy)" in their language: the base
text, link and media in their order, each network's version (app/versions.py: its own text,
link, media, options and crops), and the targets the destination campaign can take. It has no
schedule, no approval, no comments and no history but its creation.

A target is a scenario of one campaign; in the destination, the post keeps a target when that
campaign has a ready or provisioning scenario for the same social account (what the post form
offers); the others are reported, so the editor knows which accounts to add or drop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import audit
from app.campaigns import objects
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    CampaignStatus,
    ContentObject,
    ObjectMedia,
    ObjectStatus,
    ObjectVariant,
    SocialAccount,
    VariantMedia,
    object_targets,
)

TITLE_MAX = 200


@dataclass
class Duplicate:
    copy: ContentObject
    kept: list[SocialAccount] = field(default_factory=list)
    dropped: list[SocialAccount] = field(default_factory=list)  # accounts the destination lacks


def destinations() -> list[Campaign]:
    """The campaigns a post may be copied into: the active ones, by name."""
    return list(
        db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.status == CampaignStatus.ACTIVE)
            .order_by(sa.func.lower(Campaign.name), Campaign.id)
        )
    )


def copy_title(title: str) -> str:
    room = TITLE_MAX - len(str(_l("%(title)s (copy)", title="")))
    return str(_l("%(title)s (copy)", title=title[:room].rstrip()))


def duplicate(obj: ContentObject, destination: Campaign, *, actor) -> Duplicate:
    if destination.status is not CampaignStatus.ACTIVE:
        raise ValueError("the destination campaign is archived")
    copy = ContentObject(
        campaign_id=destination.id,
        title=copy_title(obj.title),
        message=obj.message or "",
        link=obj.link,
        scheduled_at=None,
        status=ObjectStatus.DRAFT,
        author_id=getattr(actor, "id", None),
    )
    db.session.add(copy)
    db.session.flush()
    media = objects.media_ids(obj)
    if media:
        db.session.execute(
            sa.insert(ObjectMedia),
            [{"object_id": copy.id, "media_asset_id": asset_id, "position": n} for n, asset_id in enumerate(media)],
        )
    variants = list(db.session.scalars(sa.select(ObjectVariant).where(ObjectVariant.object_id == obj.id)))
    for variant in variants:
        db.session.add(
            ObjectVariant(
                object_id=copy.id,
                platform=variant.platform,
                message=variant.message,
                link=variant.link,
                media_overridden=variant.media_overridden,
                options=dict(variant.options or {}),
                crops=dict(variant.crops or {}),
            )
        )
    db.session.flush()
    own = db.session.execute(
        sa.select(VariantMedia.platform, VariantMedia.media_asset_id, VariantMedia.position).where(
            VariantMedia.object_id == obj.id
        )
    ).all()
    if own:
        db.session.execute(
            sa.insert(VariantMedia),
            [
                {"object_id": copy.id, "platform": platform, "media_asset_id": asset_id, "position": position}
                for platform, asset_id, position in own
            ],
        )
    result = Duplicate(copy)
    wanted = (
        db.session.execute(
            sa.select(SocialAccount)
            .join(CampaignScenario, CampaignScenario.social_account_id == SocialAccount.id)
            .join(object_targets, object_targets.c.campaign_scenario_id == CampaignScenario.id)
            .where(object_targets.c.object_id == obj.id)
            .order_by(SocialAccount.platform, SocialAccount.label, SocialAccount.id)
        )
        .scalars()
        .all()
    )
    offered = {
        scenario.social_account_id: scenario.id
        for scenario in db.session.scalars(
            sa.select(CampaignScenario).where(
                CampaignScenario.campaign_id == destination.id, CampaignScenario.status.in_(objects.OFFERED)
            )
        )
    }
    targets = []
    for account in wanted:
        if account.id in offered:
            targets.append(offered[account.id])
            result.kept.append(account)
        else:
            result.dropped.append(account)
    if targets:
        db.session.execute(
            object_targets.insert(), [{"object_id": copy.id, "campaign_scenario_id": s} for s in targets]
        )
    audit.record(
        "object_duplicated",
        copy,
        actor=actor,
        data={
            "from_object": obj.id,
            "from_campaign": obj.campaign_id,
            "media": media,
            "versions": sorted(v.platform.value for v in variants),
            "targets": targets,
            "dropped_accounts": [account.id for account in result.dropped],
        },
    )
    return result
