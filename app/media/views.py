"""The library: grid, detail, previews, files, uploads and replacements (editors; approvers read
the assets of the posts submitted to them, since reviews show them: service.get_readable)."""

from urllib.parse import unquote

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.media import bp, service, uploads
from app.media.sniff import Refused
from app.media.streaming import version_response
from app.models import MediaStatus, Role
from app.rendering import fragment_or_redirect, render, wants_fragment
from app.search import ui
from app.security import role_required
from app.storage import media_root

VIEWERS = (Role.EDITOR, Role.APPROVER)


def _settled_status(asset) -> int:
    """htmx stops polling a component on 286 once its asset is ready or failed."""
    return 286 if wants_fragment() and asset.status is not MediaStatus.PROCESSING else 200


@bp.get("/")
@role_required(Role.EDITOR)
def index():
    """Browsing and instant search share the URL: the words, the filters, the next slice."""
    state, cursor = ui.State.from_args(request.args), request.args.get("cursor")
    more = bool(cursor) or state.page > 1
    listing = ui.listing(state, cursor, facets=not more)
    body, status, headers = render(
        "media/index.html",
        block="more" if more else "listing",
        state=state,
        filters=state.filters,
        listing=listing,
        uploaders=service.uploaders(),
        limits=uploads.limits(),
        can_manage_tags=current_user.has_role(Role.ADMIN),
    )
    if wants_fragment() and not more:  # the address bar shows the state without the empty fields
        headers["HX-Push-Url"] = url_for("media.index", **state.query_args())
    return body, status, headers


@bp.get("/facets")
@role_required(Role.EDITOR)
def facets():
    """The facet chips and the count of the library's current search, fetched again after an
    upload or a bulk tagging changed them; a plain request goes to the library itself."""
    state = ui.State.from_args(request.args)
    if not wants_fragment():
        return redirect(url_for("media.index", **state.query_args()))
    return render("media/index.html", block="facets", state=state, listing=ui.listing(state, facets=True))


@bp.get("/<int:asset_id>/card")
@role_required(*VIEWERS)
def card(asset_id):
    asset = service.get_readable(asset_id, current_user)
    return render_template("media/_card.html", asset=asset), _settled_status(asset), {"Vary": "HX-Request"}


@bp.get("/<int:asset_id>")
@role_required(*VIEWERS)
def detail(asset_id):
    """Editors work on the asset here; approvers read it (the assets of the posts they review)."""
    asset, editor = service.get_readable(asset_id, current_user), current_user.has_role(Role.EDITOR)
    return render(
        "media/detail.html",
        block="panel",
        status=_settled_status(asset),
        can_edit=editor,
        **service.detail(asset, editor=editor),
    )


@bp.post("/<int:asset_id>/retry-storing")
@role_required(Role.EDITOR)
def retry_storing(asset_id):
    """The panel again, processing (and polling) once the upload is sent again; with the
    reason beside the button when there is nothing to send."""
    try:
        service.retry_storing(service.get_asset(asset_id, lock=True), current_user)
    except service.CannotRetry as exc:
        db.session.rollback()
        return _retried(asset_id, str(exc), "error", 422)
    db.session.commit()
    return _retried(asset_id, _("The file is being stored again."), "success", 200)


def _retried(asset_id: int, message: str, category: str, status: int):
    asset = service.get_asset(asset_id)
    return fragment_or_redirect(
        "media/detail.html",
        "panel",
        url_for("media.detail", asset_id=asset_id),
        message=message,
        category=category,
        status=status,
        can_edit=True,
        retry_message=message,
        retry_category=category,
        **service.detail(asset),
    )


DERIVED_MAX_AGE = 3600  # an hour fresh, then revalidated: a 304 costs headers only


def _derived(asset_id: int, kind: str):
    """A thumbnail or preview, cacheable by the browser alone (signed-in content), with an ETag
    that changes with the asset's version, so a warm visit revalidates in a 304 or not at all."""
    asset = service.get_readable(asset_id, current_user)
    path = getattr(asset, f"{kind}_path")
    if not path or not (media_root() / path).is_file():
        abort(404)
    response = send_file(
        media_root() / path,
        mimetype="image/webp",
        max_age=DERIVED_MAX_AGE,
        conditional=True,
        etag=f"{asset.id}-v{asset.version}-{kind}",
        last_modified=None,
    )
    response.cache_control.public, response.cache_control.private = False, True
    return response


@bp.get("/<int:asset_id>/thumb")
@role_required(*VIEWERS)
def thumb(asset_id):
    return _derived(asset_id, "thumb")


@bp.get("/<int:asset_id>/preview")
@role_required(*VIEWERS)
def preview(asset_id):
    return _derived(asset_id, "preview")


@bp.get("/<int:asset_id>/file")
@role_required(*VIEWERS)
def file(asset_id):
    asset = service.get_readable(asset_id, current_user)
    if asset.storage_item_id is None:
        abort(404)
    return version_response(asset, request.args.get("version", asset.storage_version))


@bp.post("/<int:asset_id>/fields/<name>")
@role_required(Role.EDITOR)
def update_field(asset_id, name):
    """The title, the description or the alt text, saved on its own: htmx swaps that field (and
    the heading for the title); without JavaScript, back to the page, or the page again with
    the error beside what was typed (422 both ways)."""
    asset, value = service.get_asset(asset_id, lock=True), request.form.get("value", "")
    try:
        service.update_field(asset, name, value, current_user)
    except service.FieldError as exc:
        db.session.rollback()
        return _field(service.get_asset(asset_id), name, 422, values={name: value}, errors={name: exc.message})
    db.session.commit()
    return _field(asset, name, 200, saved=name)


def _field(asset, name: str, status: int, **state):
    rows = service.field_rows(asset, **state)
    if wants_fragment():
        return render(
            "media/detail.html",
            block="field",
            status=status,
            asset=asset,
            can_edit=True,
            row=next(row for row in rows if row["field"].name == name),
        )
    if status == 200:
        flash(_("Saved."), "success")
        return redirect(url_for("media.detail", asset_id=asset.id), 303)
    return render("media/detail.html", status=status, can_edit=True, **dict(service.detail(asset), fields=rows))


def _received() -> uploads.Received:
    """The raw body of the request (see app.media.uploads for why raw), on disk and checked."""
    if request.mimetype != "application/octet-stream":
        raise Refused(_("Send the file as the raw body of the request (application/octet-stream)."), 415)
    db.session.rollback()  # give the connection back to the pool while the body streams in (minutes)
    with uploads.read_timeout(request.environ):
        return uploads.receive(request.stream, unquote(request.headers.get("X-Filename", "")), request.content_length)


def _refused(exc: Refused):
    # A stalled body leaves the connection unusable: the server must not wait for another request on it.
    headers = {"Connection": "close"} if exc.status == 408 else {}
    return jsonify(error=str(exc.message)), exc.status, headers


@bp.post("/upload")
@role_required(Role.EDITOR)
def upload():
    try:
        asset, duplicate = uploads.add_asset(_received(), current_user)
    except Refused as exc:
        return _refused(exc)
    if not duplicate:
        service.name_upload(asset)
    db.session.commit()
    message = (
        _("Already in the library as “%(title)s”: the existing file is used, nothing was copied.", title=asset.title)
        if duplicate
        else _("Uploaded; previews are being made.")
    )
    return jsonify(
        id=asset.id,
        duplicate=duplicate,
        message=message,
        url=url_for("media.detail", asset_id=asset.id),
        tile=render_template("media/_tile.html", asset=asset),
    )


@bp.post("/<int:asset_id>/file")
@role_required(Role.EDITOR)
def replace(asset_id):
    service.get_asset(asset_id)  # 404 before reading the body
    try:
        asset = uploads.replace_file(asset_id, _received(), current_user)
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("The file was replaced; the previous one is kept as version %(n)d.", n=asset.version - 1), "success")
    return jsonify(id=asset.id, message=_("Replaced."), url=url_for("media.detail", asset_id=asset.id))


@bp.post("/<int:asset_id>/delete")
@role_required(Role.EDITOR)
def delete(asset_id):
    asset = service.get_asset(asset_id, lock=True)
    try:
        service.delete_asset(asset, current_user)
    except service.InUse:
        flash(_("This file is used in a campaign and cannot be deleted."), "error")
        return redirect(url_for("media.detail", asset_id=asset_id), 303)
    db.session.commit()
    flash(_("“%(title)s” was deleted.", title=asset.title), "success")
    return redirect(url_for("media.index"), 303)
