"""Tags on assets (inline and in bulk), the autocomplete options, and the admin's tag page."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.media import bp, service, tags
from app.models import Role
from app.rendering import render, wants_fragment
from app.security import role_required


def _tag_editor(asset, error=None):
    if not wants_fragment():  # a plain form post (no JavaScript) goes back to the page
        if error:
            flash(str(error), "error")
        return redirect(url_for("media.detail", asset_id=asset.id), 303)
    return render(
        "media/detail.html", block="tags", asset=asset, tag_error=error, can_edit=True, status=422 if error else 200
    )


@bp.post("/<int:asset_id>/tags")
@role_required(Role.EDITOR)
def add_tag(asset_id):
    asset = service.get_asset(asset_id)
    try:
        tags.tag_assets([asset], request.form.get("tag", ""), current_user)
    except tags.TagError as exc:
        return _tag_editor(asset, exc.message)
    db.session.commit()
    return _tag_editor(asset)


@bp.post("/<int:asset_id>/tags/<int:tag_id>/delete")
@role_required(Role.EDITOR)
def remove_tag(asset_id, tag_id):
    asset, tag = service.get_asset(asset_id), tags.get(tag_id) or abort(404)
    tags.untag_assets([asset], tag, current_user)
    db.session.commit()
    return _tag_editor(asset)


@bp.get("/tags/options")
@role_required(Role.EDITOR)
def tag_options():
    return render_template("media/_tag_options.html", tags=tags.suggestions(request.args.get("tag", "")))


@bp.post("/bulk-tags")
@role_required(Role.EDITOR)
def bulk_tags():
    assets = service.assets_in_order(request.form.getlist("ids", type=int))
    try:
        message, error = tags.bulk(assets, request.form.get("tag", ""), request.form.get("action"), current_user), None
        db.session.commit()
    except tags.TagError as exc:
        message, error = None, exc.message
    if not wants_fragment():
        flash(str(error or message), "error" if error else "success")
        return redirect(url_for("media.index"), 303)
    body, status, headers = render(
        "media/index.html",
        block="bulk_result",
        assets=assets,
        message=message,
        error=error,
        status=422 if error else 200,
    )
    if not error:
        headers["HX-Trigger"] = "media-changed"  # the facet counts fetch themselves again
    return body, status, headers


@bp.get("/tags")
@role_required(Role.ADMIN)
def tags_admin():
    return render("media/tags.html", rows=tags.all_with_counts())


@bp.post("/tags/<int:tag_id>/rename")
@role_required(Role.ADMIN)
def rename_tag(tag_id):
    tag = tags.get(tag_id) or abort(404)
    old = tag.name
    try:
        kept = tags.rename(tag, request.form.get("name", ""), current_user)
    except tags.TagError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("media.tags_admin"), 303)
    db.session.commit()
    flash(
        _("“%(old)s” was merged into “%(new)s”.", old=old, new=kept.name)
        if kept.id != tag_id
        else _("Renamed to “%(new)s”.", new=kept.name),
        "success",
    )
    return redirect(url_for("media.tags_admin"), 303)


@bp.post("/tags/<int:tag_id>/merge")
@role_required(Role.ADMIN)
def merge_tag(tag_id):
    source, target = tags.get(tag_id) or abort(404), tags.find(request.form.get("target", ""))
    if target is None:
        abort(404)
    name = source.name
    try:
        tags.merge(source, target, current_user)
    except tags.TagError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("media.tags_admin"), 303)
    db.session.commit()
    flash(_("“%(old)s” was merged into “%(new)s”.", old=name, new=target.name), "success")
    return redirect(url_for("media.tags_admin"), 303)
