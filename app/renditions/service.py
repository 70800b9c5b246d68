"""Which rendition a post's file needs for a network, recording it, making it, finding it.

A rendition is keyed by (asset, asset version, profile, crop). The profile is the network's
name and a digest of its media rules, so every post to that network with that file shares one
rendition, and a change of the rules (app/networks.py) makes new ones. Images and videos always
get one (metadata stripped, orientation applied, format and sizes made to fit); documents are
sent as they are (LinkedIn takes a PDF within its limits).

`request` records the missing rows in the caller's transaction and sends the `make_rendition`
actor after the commit; `make` does the work without holding a transaction, then records the
result: ready with its file in the asset's storage backend (SharePoint: a `renditions` subfolder,
app/storage/sharepoint.py), or failed with the reason. A storage that does not answer (a Graph
outage, throttling) leaves it pending and the actor retries as long as it lasts. A post
is never sent with the original in place of a missing or failed rendition (app/publishing/).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, replace
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert

from app import networks
from app.extensions import db
from app.media import display
from app.models import FocalPoint, MediaAsset, MediaKind, Platform, Rendition, RenditionStatus as R
from app.models.base import utcnow
from app.renditions import image, runner, video
from app.storage import StorageUnavailable, get_storage, media_root, transfers
from app.tasks import by_name, send_after_commit

make_rendition = by_name("make_rendition")

DEFAULT_CROP = "auto"
LETTERBOX = "letterbox"
# A video made vertical on the editor's choice (a Reel, a TikTok, a Short): 9:16.
VERTICAL = 9 / 16


class RenditionPending(LookupError):
    """The rendition is not made yet: the publication waits for it."""

    def __init__(self, rendition_id: int):
        super().__init__(f"rendition {rendition_id} is not ready yet")
        self.rendition_id = rendition_id


class RenditionFailed(LookupError):
    """The rendition could not be made: the publication fails with the reason."""


def needs_rendition(asset: MediaAsset) -> bool:
    return asset.kind in (MediaKind.IMAGE, MediaKind.VIDEO)


def profile(platform: Platform) -> str:
    rules = networks.RULES[platform]
    media_rules = {k: v for k, v in asdict(rules).items() if k.startswith(("image", "video", "gif"))}
    digest = hashlib.sha256(repr(sorted(media_rules.items())).encode()).hexdigest()[:8]
    return f"{platform.value}-{digest}"


def platform_of(profile_name: str) -> Platform:
    return Platform(profile_name.rsplit("-", 1)[0])


def focal_point(asset: MediaAsset) -> tuple[float, float]:
    """The focal point of the asset's current version; the centre when none was set."""
    found = db.session.get(FocalPoint, (asset.id, asset.version))
    return (float(found.x), float(found.y)) if found is not None else (0.5, 0.5)


def set_focal_point(asset: MediaAsset, x: float, y: float) -> None:
    """Record where the subject of the current version is (0..1 of its width and height as
    shown). The renditions made around another point are not reused: the crop key changes."""
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise ValueError("a focal point is within the picture (0 to 1)")
    db.session.execute(
        insert(FocalPoint)
        .values(asset_id=asset.id, asset_version=asset.version, x=round(x, 3), y=round(y, 3))
        .on_conflict_do_update(index_elements=["asset_id", "asset_version"], set_={"x": round(x, 3), "y": round(y, 3)})
    )


def crop_key(asset: MediaAsset) -> str:
    """`auto` (centred) or the focal point the crops are made around, e.g. `focal-0.900-0.500`."""
    return _point_key(*focal_point(asset))


def _point_key(x: float, y: float) -> str:
    return DEFAULT_CROP if (round(x, 3), round(y, 3)) == (0.5, 0.5) else f"focal-{x:.3f}-{y:.3f}"


def crop_for(asset: MediaAsset, crops: dict | None) -> str:
    """The crop key of `asset` in a network's version whose `crops` (app/versions.py) may hold
    the editor's choice for it (docs/architecture.md §3.10): an image's own point
    (`{"x": .9, "y": .5}` → `focal-0.900-0.500`), a video made vertical with black bands
    (`{"fit": "letterbox"}` → `letterbox`) or cropped around a point (`{"fit": "crop"}`, its own
    point or the file's → `crop-0.500-0.500`). Without one, the file's focal point (`crop_key`):
    an image cropped around it, a video keeping its shape where the network takes it."""
    entry = (crops or {}).get(str(asset.id))
    if not isinstance(entry, dict):
        return crop_key(asset)
    point = _point_of(entry)
    if asset.kind is MediaKind.VIDEO:
        if entry.get("fit") == "letterbox":
            return LETTERBOX
        if entry.get("fit") == "crop":
            x, y = point if point is not None else focal_point(asset)
            return f"crop-{x:.3f}-{y:.3f}"
        return crop_key(asset)
    return _point_key(*point) if point is not None else crop_key(asset)


def _point_of(entry: dict) -> tuple[float, float] | None:
    try:
        x, y = float(entry["x"]), float(entry["y"])
    except (KeyError, TypeError, ValueError):
        return None
    return (x, y) if 0 <= x <= 1 and 0 <= y <= 1 else None


def shape_of(crop: str) -> tuple[str | None, tuple[float, float]]:
    """What a crop key asks of a video: (`letterbox` | `crop` made vertical, or None for the
    file's own shape, letterboxed only where the network's range forces it), and the point."""
    if crop == LETTERBOX:
        return "letterbox", (0.5, 0.5)
    if crop.startswith(("focal-", "crop-")):
        kind, x, y = crop.split("-")
        return ("crop" if kind == "crop" else None), (float(x), float(y))
    return None, (0.5, 0.5)


def _focal_of(crop: str) -> tuple[float, float]:
    return shape_of(crop)[1]


def find(asset: MediaAsset, platform: Platform, crop: str = DEFAULT_CROP) -> Rendition | None:
    return db.session.scalar(
        sa.select(Rendition).where(
            Rendition.asset_id == asset.id,
            Rendition.asset_version == asset.version,
            Rendition.profile == profile(platform),
            Rendition.crop == crop,
        )
    )


def request(asset: MediaAsset, platform: Platform, crop: str | None = None) -> Rendition | None:
    """The rendition of the asset's current version for `platform` (around its focal point
    unless `crop` says otherwise), recorded if missing (and made after the commit); None when
    the file is sent as it is."""
    if not needs_rendition(asset):
        return None
    crop = crop_key(asset) if crop is None else crop
    found = find(asset, platform, crop)
    if found is not None:
        return found
    inserted = db.session.scalar(
        insert(Rendition)
        .values(
            asset_id=asset.id,
            asset_version=asset.version,
            profile=profile(platform),
            crop=crop,
            status=R.PENDING,
            storage_backend=asset.storage_backend,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(constraint="uq_renditions_key")
        .returning(Rendition.id)
    )
    if inserted is not None:
        send_after_commit(db.session(), make_rendition, inserted)
    return find(asset, platform, crop)


def for_payload(asset: MediaAsset, platform: Platform, crop: str | None = None) -> Rendition | None:
    """The ready rendition to send (around `crop`, see `request`); `RenditionPending` (recorded
    and queued if it was missing) or `RenditionFailed` otherwise. None: the original is sent (a
    document)."""
    rendition = request(asset, platform, crop)
    if rendition is None:
        return None
    if rendition.status is R.FAILED:
        raise RenditionFailed(
            f"the file “{asset.title}” could not be adapted for {platform.value}: {rendition.failure_reason}"
        )
    if rendition.status is not R.READY:
        raise RenditionPending(rendition.id)
    return rendition


def requeue_if_stale(rendition_id: int) -> None:
    """Queue a pending rendition again when nothing has touched it for longer than making it
    may take (its message was lost): the caller commits."""

    limit = timedelta(seconds=current_app.config["RENDITION_TIMEOUT_S"] + 60)
    stale = db.session.scalar(
        sa.update(Rendition)
        .where(Rendition.id == rendition_id, Rendition.status == R.PENDING, Rendition.updated_at < utcnow() - limit)
        .values(updated_at=utcnow())
        .returning(Rendition.id)
    )
    if stale is not None:
        send_after_commit(db.session(), make_rendition, stale)


def give_up(rendition_id: int, reason: str) -> None:
    """The actor's retries are exhausted (the storage kept failing): the rendition fails."""
    db.session.execute(
        sa.update(Rendition)
        .where(Rendition.id == rendition_id, Rendition.status == R.PENDING)
        .values(status=R.FAILED, failure_reason=reason, updated_at=utcnow())
    )
    db.session.commit()


def retry(rendition: Rendition) -> None:
    """Try a failed rendition again (the post page's button)."""
    if rendition.status is R.FAILED:
        rendition.status, rendition.failure_reason = R.PENDING, None

        send_after_commit(db.session(), make_rendition, rendition.id)


def make(rendition_id: int) -> str:
    """Make one rendition; safe to run twice. Returns ready, failed, or skipped."""
    rendition = db.session.get(Rendition, rendition_id)
    if rendition is None or rendition.status is not R.PENDING:
        db.session.rollback()
        return "skipped"
    asset = db.session.get(MediaAsset, rendition.asset_id)
    if asset is None or asset.version != rendition.asset_version:
        db.session.rollback()
        return "skipped"  # replaced meanwhile: the new version has rows of its own
    kind, backend, version = asset.kind, asset.storage_backend, asset.version
    platform = platform_of(rendition.profile)
    rules, settings = recipe(kind, platform, rendition.crop)
    suffix = ".mp4" if kind is MediaKind.VIDEO else ""
    tmp = media_root() / "tmp" / f"download-rendition-{uuid.uuid4().hex}{suffix}"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    db.session.rollback()  # hold no transaction while the file is decoded
    result, failure, stored = None, None, None
    try:
        with transfers.current_file(asset.id, version, backend) as source:
            result = runner.run(
                kind.value, str(source), str(tmp), rules, settings, current_app.config["RENDITION_TIMEOUT_S"]
            )
        stored = get_storage(backend).put_derived(tmp, name=f"rendition-{rendition_id}-{platform.value}{_ext(result)}")
    except runner.RenditionError as exc:
        failure = str(exc)
    except StorageUnavailable as exc:  # a Graph outage or throttling: the actor tries again
        _still_pending(rendition_id, f"the storage did not answer; trying again: {exc}")
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return _record(rendition_id, result, stored, failure)


def _still_pending(rendition_id: int, reason: str) -> None:
    """A transient storage error: the rendition stays pending, with the reason until it is made
    (shown nowhere as a failure), and touched, so `requeue_if_stale` leaves the retry alone."""
    db.session.rollback()
    db.session.execute(
        sa.update(Rendition)
        .where(Rendition.id == rendition_id, Rendition.status == R.PENDING)
        .values(failure_reason=reason[:2000], attempts=Rendition.attempts + 1, updated_at=utcnow())
    )
    db.session.commit()


def recipe(kind: MediaKind, platform: Platform, crop: str):
    """The rules and settings a rendition is made to: the network's rules around the crop key's
    point; a video the editor chose to make vertical gets a 9:16 shape, with black bands or
    cropped around the point."""
    fit, focal = shape_of(crop)
    rules = networks.RULES[platform]
    if kind is MediaKind.IMAGE:
        return rules, image.Settings(focal=focal, keep_metadata=current_app.config["RENDITION_KEEP_METADATA"])
    if fit is not None:
        return replace(rules, video_ratio=(VERTICAL, VERTICAL)), video.Settings(fit=fit, focal=focal)
    return rules, video.Settings(focal=focal)


def _ext(result: dict) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "video/mp4": ".mp4"}.get(
        result["mime"], ""
    )


def _record(rendition_id: int, result: dict | None, stored, failure: str | None) -> str:
    rendition = db.session.get(Rendition, rendition_id, with_for_update=True, populate_existing=True)
    if rendition is None:
        db.session.rollback()
        return "skipped"  # the asset went meanwhile; its file is an orphan for the sweeper
    rendition.attempts += 1
    if failure is not None:
        rendition.status, rendition.failure_reason = R.FAILED, failure
    else:
        rendition.status, rendition.failure_reason, rendition.made_at = R.READY, None, utcnow()
        rendition.storage_item_id, rendition.storage_version = stored.ref, stored.id
        rendition.mime, rendition.size_bytes = result["mime"], result["size"]
        rendition.width, rendition.height = result["width"], result["height"]
        if "duration" in result:
            rendition.duration_s = Decimal(str(round(result["duration"], 3)))
            rendition.frame_rate = Decimal(str(round(result["fps"], 3)))
        rendition.changes = result["changes"]
    db.session.commit()
    return rendition.status.value


def facts(rendition: Rendition) -> networks.MediaFacts:
    """The rendition as the network check sees it."""
    kind = "video" if rendition.mime and rendition.mime.startswith("video/") else "image"
    return networks.MediaFacts(
        kind=kind,
        mime=rendition.mime,
        size=rendition.size_bytes,
        width=rendition.width,
        height=rendition.height,
        duration_s=float(rendition.duration_s) if rendition.duration_s is not None else None,
        fps=float(rendition.frame_rate) if rendition.frame_rate is not None else None,
    )


def note(rendition: Rendition) -> str:
    """What was done, for the post page: « redimensionnée à 1440 px, convertie en JPEG, 2,1 Mo »."""
    if rendition.status is R.FAILED:
        return str(_l("Could not be adapted: %(reason)s", reason=rendition.failure_reason))
    if rendition.status is not R.READY:
        return str(_l("Being adapted…"))
    changes, parts = rendition.changes or {}, []
    if changes.get("resized"):
        parts.append(str(_l("resized to %(w)d px", w=rendition.width)))
    if changes.get("cropped"):
        parts.append(str(_l("cropped to %(w)d×%(h)d", w=rendition.width, h=rendition.height)))
    if changes.get("letterboxed"):
        parts.append(str(_l("letterboxed to %(w)d×%(h)d", w=rendition.width, h=rendition.height)))
    if changes.get("converted") or rendition.mime == "video/mp4":
        parts.append(str(_l("converted to %(type)s", type=rendition.mime.split("/")[1].upper())))
    parts.append(display.filesize(rendition.size_bytes))  # 30 KB as 30 KB, not 0,0 MB
    return ", ".join(parts)


def stored_refs(backend=None) -> set[str]:
    """The storage objects renditions hold (the sweeper keeps them)."""
    query = sa.select(Rendition.storage_item_id).where(Rendition.storage_item_id.is_not(None))
    if backend is not None:
        query = query.where(Rendition.storage_backend == backend)
    return set(db.session.scalars(query))
