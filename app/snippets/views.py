"""The team's text snippets and hashtag groups: the management page and the composer's
"Insert…" list (app/snippets/service.py)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Role
from app.rendering import render
from app.security import role_required
from app.snippets import bp, service

KIND = "<any(texts, hashtags):kind>"


def _item_or_404(kind: str, item_id: int):
    item = service.get(kind, item_id)
    if item is None:
        abort(404)
    return item


def _form(kind: str, item=None, values=None, errors=None, status=200):
    if values is None:
        values = {"name": item.name if item else "", "text": (item.text if item else "")}
    return render("snippets/form.html", kind=kind, item=item, values=values, errors=errors or {}, status=status)


@bp.get("/")
@role_required(Role.EDITOR)
def index():
    q = request.args.get("q", "").strip()
    return render(
        "snippets/index.html",
        block="listing",
        q=q,
        texts=service.texts(q),
        groups=service.groups(q),
        searchable=bool(q) or service.total() > service.SEARCH_FROM,
    )


@bp.get(f"/{KIND}/new")
@role_required(Role.EDITOR)
def new(kind):
    return _form(kind)


@bp.post(f"/{KIND}")
@role_required(Role.EDITOR)
def create(kind):
    values = {"name": request.form.get("name", ""), "text": request.form.get("text", "")}
    try:
        item = service.save(kind, None, **values, actor=current_user)
    except service.Invalid as invalid:
        return _form(kind, values=values, errors=invalid.errors, status=422)
    db.session.commit()
    flash(_("“%(name)s” saved.", name=item.name), "success")
    return redirect(url_for("snippets.index"), 303)


@bp.get(f"/{KIND}/<int:item_id>/edit")
@role_required(Role.EDITOR)
def edit(kind, item_id):
    return _form(kind, _item_or_404(kind, item_id))


@bp.post(f"/{KIND}/<int:item_id>")
@role_required(Role.EDITOR)
def update(kind, item_id):
    item = _item_or_404(kind, item_id)
    values = {"name": request.form.get("name", ""), "text": request.form.get("text", "")}
    try:
        service.save(kind, item, **values, actor=current_user)
    except service.Invalid as invalid:
        db.session.rollback()
        return _form(kind, _item_or_404(kind, item_id), values=values, errors=invalid.errors, status=422)
    db.session.commit()
    flash(_("“%(name)s” saved.", name=item.name), "success")
    return redirect(url_for("snippets.index"), 303)


@bp.post(f"/{KIND}/<int:item_id>/delete")
@role_required(Role.EDITOR)
def delete(kind, item_id):
    item = _item_or_404(kind, item_id)
    name = item.name
    service.delete(kind, item, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” deleted.", name=name), "success")
    return redirect(url_for("snippets.index"), 303)


@bp.get("/pick")
@role_required(Role.EDITOR)
def pick():
    """The composer's "Insert…" list (htmx), filtered by what the editor types."""
    q = request.args.get("q", "").strip()
    return render("snippets/_pick.html", q=q, choices=service.choices(q))
