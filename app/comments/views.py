from flask import jsonify, redirect, request, url_for
from flask_login import current_user

from app.comments import bp, service
from app.comments.forms import CommentForm
from app.extensions import db
from app.models import Role
from app.rendering import render, wants_fragment
from app.reviews.service import get_readable
from app.security import role_required


def _thread(obj, form, status=200):
    return render(
        "comments/thread.html",
        block="thread",
        status=status,
        obj=obj,
        conversation=service.thread(obj),
        comment_form=form,
    )


@bp.get("/posts/<int:object_id>/conversation")
@role_required(Role.EDITOR, Role.APPROVER)
def show(object_id):
    obj = get_readable(object_id, current_user)
    return _thread(obj, CommentForm(formdata=None))


@bp.get("/posts/<int:object_id>/mentions")
@role_required(Role.EDITOR, Role.APPROVER)
def mentions(object_id):
    """Who an @ in this post's conversation may name (JSON for app/static/comments.js)."""
    obj = get_readable(object_id, current_user)
    return jsonify(people=service.suggestions(obj, request.args.get("q", "")[:60], current_user))


@bp.post("/posts/<int:object_id>/comments")
@role_required(Role.EDITOR, Role.APPROVER)
def create(object_id):
    """htmx swaps the thread; without JavaScript, back to the page the form was on (303).
    An empty message comes back with the error and nothing lost (422)."""
    obj = get_readable(object_id, current_user)
    form = CommentForm()
    if not form.validate():
        return _thread(obj, form, status=422)
    service.add(obj, current_user, form.body.data)
    db.session.commit()
    if wants_fragment():
        return _thread(obj, CommentForm(formdata=None, next=form.next.data))
    back = form.next.data or ""
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for("comments.show", object_id=obj.id)
    return redirect(back + f"#conversation-{obj.id}", 303)
