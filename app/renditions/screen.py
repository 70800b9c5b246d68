"""What the renditions look like on screen (issue 11): per target of a post, each file's
rendition and its state; the focal point box on the asset page.

Reading never records a rendition (a GET changes nothing): a file whose rendition is not
recorded yet shows as "being prepared" until submitting, a retry or a focal point queues it.
The previews show a ready rendition through its signed link (app/media/links.py) at its own
width and height, which are the network's proportions it was made to.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.media.links import signed_rendition_url
from app.models import (
    CampaignScenario,
    ContentObject,
    MediaAsset,
    ObjectStatus as S,
    ObjectVariant,
    Platform,
    Rendition,
    SocialAccount,
    object_targets,
)
from app.renditions import crops as crops_module, service
from app.versions import posts_using

STATE_LABELS = {
    "ready": _l("Ready"),
    "pending": _l("Being prepared"),
    "failed": _l("Could not be adapted"),
    "waiting": _l("Not made yet"),
    "original": _l("Sent as it is"),
}
# Posts whose renditions are still ahead of them: a new focal point queues theirs again.
UNSENT = (S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHING, S.FAILED)


@dataclass
class Shown:
    """One file of a post as one network will get it."""

    asset: MediaAsset
    rendition: Rendition | None  # None: not recorded yet, or a document sent as it is
    platform: Platform | None = None
    crop: str | None = None  # the crop key its rendition is made around (service.crop_for)
    own: dict | None = None  # the network's own crop of this file, when the editor moved it

    @property
    def framing(self) -> "crops_module.Framing | None":
        """What the editor may move for this network (app/renditions/crops.py); None: nothing
        is cropped (the shape fits, or a document)."""
        if self.platform is None or self.crop is None:
            return None
        return crops_module.framing(self.asset, self.platform, self.crop)

    @property
    def adapted(self) -> bool:
        return service.needs_rendition(self.asset)

    @property
    def state(self) -> str:
        """ready, pending, failed; `waiting` when not recorded yet; `original` for a document."""
        if not self.adapted:
            return "original"
        return self.rendition.status.value if self.rendition is not None else "waiting"

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def note(self) -> str:
        return service.note(self.rendition) if self.rendition is not None else ""

    @property
    def url(self) -> str | None:
        """The rendition's signed link, relative (the page may be on another host than
        `PUBLIC_BASE_URL`, which the networks use)."""
        if self.rendition is None or not self.rendition.ready:
            return None
        return urlsplit(signed_rendition_url(self.rendition)).path


def for_target(media: list[MediaAsset], platform: Platform, crops: dict | None = None) -> list[Shown]:
    """Each file of the post for `platform`: the rendition of its current version around the
    crop of the network's version (`crops`, app/versions.py) or else the file's focal point,
    as recorded (one query per call)."""
    keys = {asset.id: service.crop_for(asset, crops) for asset in media if service.needs_rendition(asset)}
    found = {}
    if keys:
        rows = db.session.scalars(
            sa.select(Rendition).where(Rendition.asset_id.in_(keys), Rendition.profile == service.profile(platform))
        )
        found = {(r.asset_id, r.asset_version, r.crop): r for r in rows}
    return [
        Shown(
            asset,
            found.get((asset.id, asset.version, keys.get(asset.id))),
            platform,
            keys.get(asset.id),
            crops_module.entry(crops, asset),
        )
        for asset in media
    ]


def still_running(shown: list[Shown]) -> bool:
    return any(item.state == "pending" for item in shown)


def failed_of(media: list[MediaAsset], rendition_id: int) -> Rendition | None:
    """The failed rendition `rendition_id` when it belongs to one of these files' current
    version (a retry from a post page acts on that post's files only)."""
    rendition = db.session.get(Rendition, rendition_id)
    ids = {(a.id, a.version) for a in media}
    if rendition is None or (rendition.asset_id, rendition.asset_version) not in ids:
        return None
    return rendition


def move_focal_point(asset: MediaAsset, x: float, y: float) -> None:
    """Set the focal point of the asset's current version and queue the renditions around it
    for the posts on their way to the networks (made after the commit; the caller commits)."""
    service.set_focal_point(asset, x, y)
    db.session.flush()
    rows = db.session.execute(
        sa.select(ContentObject.id, SocialAccount.platform)
        .distinct()
        .join(CampaignScenario, CampaignScenario.social_account_id == SocialAccount.id)
        .join(object_targets, object_targets.c.campaign_scenario_id == CampaignScenario.id)
        .join(ContentObject, ContentObject.id == object_targets.c.object_id)
        .where(ContentObject.id.in_(posts_using(asset.id)), ContentObject.status.in_(UNSENT))
    ).all()
    # A network where the editor moved this file's crop keeps its own: its key does not change.
    own = {
        (row.object_id, row.platform): row.crops
        for row in db.session.scalars(
            sa.select(ObjectVariant).where(ObjectVariant.object_id.in_({object_id for object_id, _ in rows}))
        )
    }
    wanted = {(service.crop_for(asset, own.get((object_id, platform))), platform) for object_id, platform in rows}
    for crop, platform in sorted(wanted, key=lambda pair: (pair[0], pair[1].value)):
        service.request(asset, platform, crop)
