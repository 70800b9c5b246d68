"""`/m/r/<token>`: a rendition's signed, expiring public link (what the publication payload
carries for images and videos). Like `/m/<token>` (app/media/public.py): no login, 404 for a
forged or unknown token, 410 once expired, single byte ranges for video players.

For editors: the renditions box of a post's target (polled while one is made, "try again" on a
failed one, the crop of a file for that network moved), and the focal point of an asset's
current version."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns import objects
from app.campaigns import service as campaigns
from app.extensions import db
from app.media import links
from app.media import service as media_service
from app.media.streaming import _read_stored, ranged_response
from app.models import MediaKind, Role
from app.renditions import crops, screen, service
from app.rendering import fragment_or_redirect, render, wants_fragment
from app.security import public, role_required
from app.storage import get_storage

bp = Blueprint("rendition_links", __name__)


@bp.get("/m/r/<token>")
@public
def serve(token):
    try:
        rendition = links.resolve_rendition(token)
    except links.LinkExpired:
        return Response("This link has expired.\n", 410, mimetype="text/plain")
    except links.LinkInvalid:
        return Response("Not found.\n", 404, mimetype="text/plain")
    storage = get_storage(rendition.storage_backend)
    size, etag = rendition.size_bytes, f"r{rendition.id}-{rendition.storage_version}"
    read = partial(_read_stored, storage, rendition.storage_item_id, rendition.storage_version)
    headers = {
        "Content-Type": rendition.mime,
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
    }
    return ranged_response(read, size, etag, headers)


# -- On screen (app/renditions/screen.py): a post's renditions per target, the focal point ----


@bp.app_context_processor
def _crop_helpers():
    return {"crop_editable": crops.editable}


def _target(campaign_id: int, object_id: int, scenario_id: int):
    campaign = campaigns.get_or_404(campaign_id)
    obj = objects.get_or_404(campaign, object_id)
    media = objects.media_of(obj)
    found = [check for check in objects.checks(obj, media) if check.scenario.id == scenario_id]
    if not found:
        abort(404)
    return campaign, obj, media, found[0]


def _box(campaign, obj, check, status: int = 200):
    """The box polls while a rendition is being made; 286 stops it once none is."""
    if status == 200 and wants_fragment() and not screen.still_running(check.renditions):
        status = 286
    return render("renditions/_target.html", campaign=campaign, obj=obj, check=check, status=status)


@bp.get("/campaigns/<int:campaign_id>/objects/<int:object_id>/renditions/<int:scenario_id>")
@role_required(Role.EDITOR)
def target(campaign_id, object_id, scenario_id):
    campaign, obj, _media, check = _target(campaign_id, object_id, scenario_id)
    return _box(campaign, obj, check)


@bp.post("/campaigns/<int:campaign_id>/objects/<int:object_id>/renditions/<int:scenario_id>/retry/<int:rendition_id>")
@role_required(Role.EDITOR)
def retry(campaign_id, object_id, scenario_id, rendition_id):
    """“Try again” on a failed rendition of this post's files: it is made again by the actor."""
    campaign, obj, media, check = _target(campaign_id, object_id, scenario_id)
    rendition = screen.failed_of(media, rendition_id)
    if rendition is None:
        abort(404)
    service.retry(rendition)
    db.session.commit()
    check.renditions = screen.for_target(media, check.account.platform)
    back = url_for("campaigns.show_object", campaign_id=campaign.id, object_id=obj.id)
    return fragment_or_redirect(
        "renditions/_target.html",
        None,
        back,
        message=_("Making the file again."),
        campaign=campaign,
        obj=obj,
        check=check,
    )


@bp.post("/campaigns/<int:campaign_id>/objects/<int:object_id>/renditions/<int:scenario_id>/crop/<int:asset_id>")
@role_required(Role.EDITOR)
def move_crop(campaign_id, object_id, scenario_id, asset_id):
    """Move the crop of one file for this target's network (app/renditions/crops.py): `x` and
    `y` in per cent of the picture, `fit` for a video, `reset` for the file's own focal point.
    The box comes back with the rendition around the new crop being made; 422 keeps what was
    sent with the reason, 409 when the post can no longer be edited."""
    campaign = campaigns.get_or_404(campaign_id)
    objects.get_or_404(campaign, object_id, lock=True)
    campaign, obj, media, check = _target(campaign_id, object_id, scenario_id)
    platform = check.account.platform
    asset = next(
        (item.asset for item in check.renditions if item.asset.id == asset_id and item.framing is not None), None
    )
    if asset is None:
        abort(404)  # not a file of this network's version, or nothing of it is cropped
    back = url_for("campaigns.show_object", campaign_id=campaign.id, object_id=obj.id)
    error, status, message, others = None, 200, None, []
    if not crops.editable(obj, campaign):
        error, status = _("This post can no longer be changed."), 409
    else:
        try:
            wanted = crops.parse(asset, request.form)
        except crops.CropError as exc:
            error, status = str(exc), 422
        else:
            reopened = obj.status in crops.REOPENED_BY_EDIT
            if crops.move(obj, platform, asset, wanted, actor=current_user):
                around = asset.kind is MediaKind.IMAGE or (wanted or {}).get("fit") == "crop"
                message = (
                    _("Crop saved: the post goes back to review.")
                    if reopened
                    else _("Crop saved: the file is made again around it.")
                    if around
                    else _("Shape saved: the file is made again.")
                )
            db.session.commit()
            found = objects.checks(obj)
            check = next(item for item in found if item.scenario.id == scenario_id)
            # The network's other accounts show the same crop: their boxes are replaced too.
            others = [item for item in found if item.account.platform is platform and item is not check]
    if not wants_fragment():
        if error or message:
            flash(error or message, "error" if error else "info")
        return redirect(back, 303)
    body, status, headers = render(
        "renditions/_target.html",
        campaign=campaign,
        obj=obj,
        check=check,
        status=status,
        crop_error=error,
        crop_error_for=asset.id if error else None,
        crop_saved=message,
        crop_saved_for=asset.id if message else None,
        sent={"fit": request.form.get("fit"), "x": request.form.get("x"), "y": request.form.get("y")},
    )
    for other in others:
        body += render_template("renditions/_target.html", campaign=campaign, obj=obj, check=other, oob=True)
    return body, status, headers


def _focal_page(asset, x: float, y: float, *, error: str | None = None, saved=False, status=200):
    return render("renditions/focal.html", block="box", asset=asset, x=x, y=y, error=error, saved=saved, status=status)


def _focal_asset(asset_id: int):
    asset = media_service.get_asset(asset_id)
    if not service.needs_rendition(asset):
        abort(404)  # a document is sent as it is: nothing is cropped
    return asset


@bp.get("/media/<int:asset_id>/focal-point")
@role_required(Role.EDITOR)
def focal_point(asset_id):
    asset = _focal_asset(asset_id)
    x, y = service.focal_point(asset)
    return _focal_page(asset, round(x * 100, 1), round(y * 100, 1))


@bp.post("/media/<int:asset_id>/focal-point")
@role_required(Role.EDITOR)
def save_focal_point(asset_id):
    """`x` and `y` in percent of the picture's width and height, as shown; 422 keeps what was sent."""
    asset = _focal_asset(asset_id)
    x, y = request.form.get("x", type=float), request.form.get("y", type=float)
    if x is None or y is None or not (0 <= x <= 100 and 0 <= y <= 100):
        return _focal_page(
            asset,
            request.form.get("x", ""),
            request.form.get("y", ""),
            status=422,
            error=_("The focal point is a position within the picture: from 0 to 100 across and down (per cent)."),
        )
    screen.move_focal_point(asset, x / 100, y / 100)
    db.session.commit()
    return _focal_page(asset, x, y, saved=True)
