"""Committed data for the daily-use browser tests: an editor, an approver and an admin (who
reads French), a campaign on three networks with posts in most columns of the board, a poster
with its thumbnail, a post published on two networks with their live addresses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from PIL import Image

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectMedia,
    ObjectStatus as S,
    Platform,
    MediaAsset,
    Publication,
    PublicationStatus,
    Role,
    SocialAccount,
    Tag,
    User,
    media_tags,
    object_targets,
)
from app.storage import media_root
from tests.targets_support import add_target
from tests.objects_support import make_asset
from tests.e2e.conftest import PASSWORD


@dataclass
class World:
    editor: str
    approver: str
    admin: str
    campaign_id: int
    posts: dict[str, int]  # title -> id
    scenarios: dict[str, int]  # platform -> scenario id
    live: dict[str, str]  # platform -> live address of the published post
    assets: list[int]
    accounts: list[int]


def seed(app) -> World:
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        emails = {}
        for role, name in (
            (Role.EDITOR, "Élise Éditrice"),
            (Role.APPROVER, "Agathe Approbatrice"),
            (Role.ADMIN, "Adèle Administratrice"),
        ):
            emails[role] = f"{role.value}-{tag}@example.org"
            accounts.create_user(emails[role], name, role, PASSWORD)
        # The admin reads French (the saved preference wins over the browser's language).
        db.session.execute(sa.update(User).where(User.email == emails[Role.ADMIN]).values(locale="fr"))
        campaign = Campaign(name=f"Salon {tag}")
        db.session.add(campaign)
        db.session.flush()
        scenarios = {}
        for platform, label in (
            (Platform.INSTAGRAM, "Marque FR"),
            (Platform.LINKEDIN, "Société"),
            (Platform.FACEBOOK, "Page du salon"),
        ):
            scenarios[platform.value] = add_target(campaign, platform, label, webhook_url="http://127.0.0.1:9/hook")
        poster = make_asset(f"Affiche du salon {tag}", size=(1080, 1350))
        for attribute, size in (("thumb_path", (256, 320)), ("preview_path", (864, 1080))):
            relative = f"derived/daily-{uuid.uuid4().hex}.webp"
            (media_root() / relative).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", size, (31, 95, 191)).save(media_root() / relative, "WEBP")
            setattr(poster, attribute, relative)
        # A title as cameras name files: one long word, which must wrap rather than widen the page.
        camera = make_asset(f"IMG_20260312_093045_salon_{tag}_affiche_finale_validee_HD", size=(1080, 1080))
        camera.thumb_path = poster.thumb_path
        # Tags enough for the picker's tag facet to be a long row of chips.
        for name in ("Salon 2026", "Affiche officielle", "Conférences", "Stand principal", "Presse", "Coulisses"):
            camera.tags.append(Tag(name=f"{name} {tag}", normalized=f"{name} {tag}".lower()))
        soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=20)
        posts = {}
        for title, status, targets in (
            ("Teaser du salon", S.DRAFT, ("instagram", "linkedin")),
            ("Programme des conférences", S.IN_REVIEW, ("linkedin",)),
            ("Plan d’accès", S.IN_REVIEW, ("facebook",)),
            ("Interview de la directrice", S.SCHEDULED, ("instagram",)),
            ("Ouverture des portes", S.PUBLISHED, ("instagram", "linkedin")),
            ("Jeu concours", S.FAILED, ("facebook",)),
        ):
            obj = ContentObject(
                campaign_id=campaign.id,
                title=title,
                status=status,
                message="Rendez-vous au salon le 12 mars ! Tout le programme : https://example.org/programme #salon2026",
                link="https://example.org/salon",
                scheduled_at=soon if status is S.SCHEDULED else None,
            )
            db.session.add(obj)
            db.session.flush()
            db.session.execute(
                object_targets.insert(), [{"object_id": obj.id, "campaign_scenario_id": scenarios[p]} for p in targets]
            )
            db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=poster.id, position=0))
            posts[title] = obj.id
        live = {
            "instagram": f"https://www.instagram.com/p/{tag}/",
            "linkedin": f"https://www.linkedin.com/feed/update/urn:li:share:{tag}",
        }
        for platform, url in live.items():
            db.session.add(
                Publication(
                    object_id=posts["Ouverture des portes"],
                    campaign_scenario_id=scenarios[platform],
                    idempotency_key=f"daily-{tag}-{platform}",
                    fingerprint="f",
                    status=PublicationStatus.PUBLISHED,
                    external_id=tag,
                    external_url=url,
                )
            )
        db.session.add(
            Publication(
                object_id=posts["Jeu concours"],
                campaign_scenario_id=scenarios["facebook"],
                idempotency_key=f"daily-{tag}-failed",
                fingerprint="f",
                status=PublicationStatus.FAILED,
                last_error="HTTP 400",
            )
        )
        db.session.commit()
        accounts_ = list(
            db.session.scalars(
                sa.select(CampaignScenario.social_account_id).where(CampaignScenario.campaign_id == campaign.id)
            )
        )
        return World(
            emails[Role.EDITOR],
            emails[Role.APPROVER],
            emails[Role.ADMIN],
            campaign.id,
            posts,
            scenarios,
            live,
            [poster.id, camera.id],
            accounts_,
        )


def remove(app, world: World) -> None:
    """The live app's database is shared by every browser module: leave no post, account or file
    behind for the next (the library tests start from an empty library)."""
    with app.app_context():
        objects = sa.select(ContentObject.id).where(ContentObject.campaign_id == world.campaign_id)
        db.session.execute(sa.delete(Publication).where(Publication.object_id.in_(objects)))
        db.session.execute(sa.delete(Campaign).where(Campaign.id == world.campaign_id))  # posts, scenarios
        db.session.execute(sa.delete(SocialAccount).where(SocialAccount.id.in_(world.accounts)))
        tags = sa.select(media_tags.c.tag_id).where(media_tags.c.media_asset_id.in_(world.assets))
        db.session.execute(sa.delete(Tag).where(Tag.id.in_(tags)))
        db.session.execute(sa.delete(MediaAsset).where(MediaAsset.id.in_(world.assets)))
        db.session.commit()


def no_sideways_scroll(page) -> tuple[int, int]:
    """(the page's scroll width, the screen's width). On a phone the browser zooms out to show a
    page wider than the screen, which widens `innerWidth` too: compare with the viewport's size."""
    return page.evaluate("document.documentElement.scrollWidth"), page.viewport_size["width"]
