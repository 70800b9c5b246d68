"""Seeding for the content-object tests: a campaign with scenarios, ready media, objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    MediaAsset,
    MediaKind,
    MediaStatus,
    ObjectMedia,
    ObjectStatus,
    Platform,
    SocialAccount,
    StorageBackend,
    object_targets,
)


@dataclass
class Seed:
    campaign_id: int
    scenarios: dict[str, int] = field(default_factory=dict)  # platform (or status) -> scenario id
    media: list[int] = field(default_factory=list)


def seed_campaign(
    platforms=(Platform.INSTAGRAM, Platform.LINKEDIN, Platform.X), extra_statuses=("failed",), media=2, author_id=None
) -> Seed:
    """Call inside an app context; commits (the `app` fixture rolls everything back)."""
    campaign = Campaign(name="Salon 2026", created_by_id=author_id)
    db.session.add(campaign)
    db.session.flush()
    seed = Seed(campaign.id)
    for platform in platforms:
        seed.scenarios[platform.value] = _scenario(campaign, platform, "ready")
    for status in extra_statuses:
        seed.scenarios[status] = _scenario(campaign, Platform.FACEBOOK, status)
    for n in range(media):
        seed.media.append(make_asset(f"Affiche {n}").id)
    db.session.commit()
    return seed


def _scenario(campaign, platform, status) -> int:
    account = SocialAccount(
        platform=platform,
        label=f"{platform.value} {status}",
        make_connection_id=77,
        account_identifier=f"{uuid.uuid4().int % 10**12}",
    )
    db.session.add(account)
    db.session.flush()
    scenario = CampaignScenario(
        campaign_id=campaign.id, social_account_id=account.id, status=status, webhook_url="http://127.0.0.1:9/hook"
    )
    db.session.add(scenario)
    db.session.flush()
    return scenario.id


def make_asset(
    title,
    *,
    mime="image/jpeg",
    kind=MediaKind.IMAGE,
    size=(1080, 1080),
    status=MediaStatus.READY,
    thumb_path=None,
    size_bytes=200_000,
) -> MediaAsset:
    asset = MediaAsset(
        title=title,
        filename=f"{title}.jpg",
        mime=mime,
        kind=kind,
        size_bytes=size_bytes,
        sha256=uuid.uuid4().hex + uuid.uuid4().hex,
        storage_backend=StorageBackend.LOCAL,
        width=size[0],
        height=size[1],
        status=status,
        thumb_path=thumb_path,
    )
    db.session.add(asset)
    db.session.flush()
    return asset


def with_previews(asset: MediaAsset, color=(31, 95, 191)) -> MediaAsset:
    """Give `asset` a thumbnail (256x320) and a preview (864x1080) on disk, as processing makes
    them (browser tests; call inside an app context)."""
    from PIL import Image

    from app.storage import media_root

    for attribute, size in (("thumb_path", (256, 320)), ("preview_path", (864, 1080))):
        relative = f"derived/test-{uuid.uuid4().hex}.webp"
        (media_root() / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, color).save(media_root() / relative, "WEBP")
        setattr(asset, attribute, relative)
    return asset


def make_objects(
    campaign_id: int,
    scenario_ids: list[int],
    media_ids: list[int],
    count: int,
    author_id=None,
    statuses=tuple(ObjectStatus),
    scheduled_at=None,
) -> list[int]:
    """`count` objects cycling through `statuses`, each with every target and medium (bulk inserts)."""
    objs = [
        ContentObject(
            campaign_id=campaign_id,
            title=f"Post {n}",
            message=f"Message {n} #salon",
            link="https://example.org/salon",
            status=statuses[n % len(statuses)],
            author_id=author_id,
            scheduled_at=scheduled_at,
        )
        for n in range(count)
    ]
    db.session.add_all(objs)
    db.session.flush()
    ids = [obj.id for obj in objs]
    if scenario_ids:
        db.session.execute(
            object_targets.insert(), [{"object_id": i, "campaign_scenario_id": s} for i in ids for s in scenario_ids]
        )
    if media_ids:
        db.session.execute(
            db.insert(ObjectMedia),
            [{"object_id": i, "media_asset_id": m, "position": p} for i in ids for p, m in enumerate(media_ids)],
        )
    db.session.commit()
    return ids


def in_review_with(asset: MediaAsset) -> None:
    """A post in review using `asset`: approvers open the assets of the posts submitted to them
    (tests/test_approver_access.py)."""
    campaign = Campaign(name="Salon")
    db.session.add(campaign)
    db.session.flush()
    obj = ContentObject(campaign_id=campaign.id, title="Teaser", status="in_review")
    db.session.add(obj)
    db.session.flush()
    db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=asset.id, position=0))
