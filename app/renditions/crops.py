"""A post's crop per network (issue 11, point 2; docs/architecture.md §3.10).

Where a network's shape forces a file to be cropped (an image outside the network's accepted
aspect ratios, e.g. a 3:1 photo for Instagram), the editor sees on the post page the part that
will be sent and may move it for that network only. For a video that is not vertical, the editor
chooses per network between keeping its shape (the default, as before), a vertical 9:16 with
black bands, or a vertical 9:16 cropped around a point (a Reel, a TikTok, a Short).

The choice is stored in the network's version (`ObjectVariant.crops`, by asset id) and turned
into the rendition's crop key by `service.crop_for`, so the renditions stay shared by every post
with the same crop. Moving a crop is an edit: audited, covered by the approval fingerprint, and
an approved post goes back to review.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app import audit, networks
from app.extensions import db
from app.labels import platform_label
from app.models import Campaign, CampaignStatus, ContentObject, MediaAsset, MediaKind, ObjectStatus as S, Platform
from app.renditions import service
from app.renditions.image import crop_box

FITS = ("", "letterbox", "crop")  # a video: its own shape (the default), black bands, cropped
REOPENED_BY_EDIT = {S.APPROVED, S.SCHEDULED}  # as app/campaigns/objects.py: a change sends these back
EDITABLE = {S.DRAFT, S.CHANGES_REQUESTED, S.IN_REVIEW, S.APPROVED, S.SCHEDULED}


class CropError(ValueError):
    """What was sent is not a crop of this file: the message says why, in the user's language."""


@dataclass(frozen=True)
class Framing:
    """What the post page shows to move one file's crop for one network."""

    kind: str  # image | video
    fit: str  # "" (the file's own shape), letterbox, crop (a video); crop (an image)
    x: float  # the point, in per cent of the picture as shown
    y: float
    frame: tuple[float, float, float, float] | None  # left, top, width, height (0..1): what is kept

    @property
    def movable(self) -> bool:
        """The point moves the crop (an image, or a video cropped around it)."""
        return self.fit == "crop"


def editable(obj: ContentObject, campaign: Campaign) -> bool:
    """Whether the editor may still move the post's crops (the post form's rule)."""
    return obj.status in EDITABLE and campaign.status is CampaignStatus.ACTIVE


def _ratio(asset: MediaAsset) -> float | None:
    return asset.width / asset.height if asset.width and asset.height else None


def adjustable(asset: MediaAsset, platform: Platform) -> bool:
    """Whether the network's shape lets the editor choose: an image it must crop, or a video
    that is not vertical yet, for a network that takes videos."""
    ratio, rules = _ratio(asset), networks.RULES[platform]
    if ratio is None:
        return False
    if asset.kind is MediaKind.IMAGE:
        return bool(rules.image_ratio) and crop_box(asset.width, asset.height, rules.image_ratio, (0.5, 0.5)) != (
            0,
            0,
            asset.width,
            asset.height,
        )
    return asset.kind is MediaKind.VIDEO and rules.videos_max > 0 and ratio > service.VERTICAL * 1.01


def framing(asset: MediaAsset, platform: Platform, crop: str) -> Framing | None:
    """The crop of `asset` for `platform` around the crop key `crop`, as the post page shows it;
    None when nothing is there to choose."""
    if not adjustable(asset, platform):
        return None
    fit, point = service.shape_of(crop)
    if asset.kind is MediaKind.IMAGE:
        fit, ratio = "crop", networks.RULES[platform].image_ratio
    else:
        fit, ratio = fit or "", (service.VERTICAL, service.VERTICAL)
        if fit != "crop":
            point = service.focal_point(asset)
    frame = None
    if fit == "crop":
        left, top, right, bottom = crop_box(asset.width, asset.height, ratio, point)
        frame = (left / asset.width, top / asset.height, (right - left) / asset.width, (bottom - top) / asset.height)
    return Framing(asset.kind.value, fit, round(point[0] * 100, 1), round(point[1] * 100, 1), frame)


def entry(crops: dict | None, asset: MediaAsset) -> dict | None:
    """This file's own crop in a network's version, if the editor moved it."""
    found = (crops or {}).get(str(asset.id))
    return found if isinstance(found, dict) else None


def parse(asset: MediaAsset, form) -> dict | None:
    """The crop the form asks for: `x` and `y` in per cent of the picture (the point), `fit` for
    a video; `reset` goes back to the file's own focal point (a video stays cropped). None: no crop of its own.
    `CropError` when a value is out of range (nothing is saved)."""
    fit = form.get("fit", "crop" if asset.kind is MediaKind.IMAGE else "")
    if form.get("reset"):  # a video cropped stays cropped, around the file's focal point
        return {"fit": "crop"} if asset.kind is MediaKind.VIDEO and fit == "crop" else None
    if asset.kind is MediaKind.VIDEO and fit not in FITS:
        raise CropError(str(_l("Choose how the video is made vertical.")))
    if asset.kind is MediaKind.VIDEO and fit != "crop":
        return {"fit": fit} if fit else None
    raw_x, raw_y = form.get("x", ""), form.get("y", "")
    if asset.kind is MediaKind.VIDEO and not raw_x and not raw_y:
        return {"fit": "crop"}  # around the file's focal point until the editor moves it
    try:
        x, y = float(raw_x), float(raw_y)
    except (TypeError, ValueError):
        x = y = -1.0
    if not (0 <= x <= 100 and 0 <= y <= 100):
        raise CropError(
            str(_l("The crop's centre is a position within the picture: from 0 to 100 across and down (per cent)."))
        )
    point = {"x": round(x / 100, 3), "y": round(y / 100, 3)}
    return {"fit": "crop", **point} if asset.kind is MediaKind.VIDEO else point


def move(obj: ContentObject, platform: Platform, asset: MediaAsset, wanted: dict | None, *, actor) -> bool:
    """Store `wanted` as the crop of `asset` in the network's version and queue its rendition
    (made after the commit: the page shows it being made, then made). An approved or scheduled
    post goes back to review, as after any edit. True if anything changed; the caller commits."""
    from app import versions
    from app.reviews import service as reviews

    own = dict(versions.version(obj, platform).crops)
    if wanted is None:
        own.pop(str(asset.id), None)
    else:
        own[str(asset.id)] = wanted
    if not versions.save(obj, platform, crops=own):
        return False
    audit.record(
        "object_crop_moved", obj, actor=actor, data={"platform": platform.value, "asset": asset.id, "crop": wanted}
    )
    if obj.status in REOPENED_BY_EDIT:
        db.session.flush()
        reviews.reopen_after_change(
            [obj.id], by=actor, reason=str(_l("Crop moved for %(network)s", network=platform_label(platform)))
        )
    service.request(asset, platform, service.crop_for(asset, own))
    return True
