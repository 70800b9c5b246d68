"""Comments on a post: anyone who may read the post (app.reviews.service.may_read) takes part;
an @mention by name or by e-mail local part notifies that person; every comment is audited on
the post. The "request changes" comment is added here by the notification hook, pinned first
until the post is submitted again."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.models import Comment, ContentObject, NotificationEvent, ObjectStatus, Role, User

MAX_LENGTH = 4000


@dataclass
class Entry:
    comment: Comment
    author: str | None


def thread(obj: ContentObject) -> list[Entry]:
    """Pinned first, then oldest first, with the authors' names (one query)."""
    rows = db.session.execute(
        sa.select(Comment, User.name)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.object_id == obj.id)
        .order_by(Comment.pinned.desc(), Comment.created_at, Comment.id)
    ).all()
    return [Entry(comment, name) for comment, name in rows]


def count_of(object_id_column):
    """SQL: the number of comments of each post, as a column of a query on posts (the board's
    cards get it without a query of their own)."""
    return (
        sa.select(sa.func.count())
        .where(Comment.object_id == object_id_column)
        .correlate_except(Comment)
        .scalar_subquery()
    )


def readers(obj: ContentObject):
    """Who may read the post: editors and admins always, approvers once it was submitted."""
    roles = [Role.EDITOR, Role.ADMIN] + ([Role.APPROVER] if obj.status is not ObjectStatus.DRAFT else [])
    return sa.select(User).where(User.active, User.role.in_(roles))


def suggestions(obj: ContentObject, prefix: str, author, limit: int = 6) -> list[dict]:
    """People who may read the post whose name or e-mail local part starts with `prefix`:
    what the @ autocomplete offers (the handle inserted is the e-mail local part)."""
    prefix = prefix.casefold().strip()
    found = []
    for user in db.session.scalars(readers(obj).order_by(User.name)):
        local = user.email.split("@", 1)[0]
        words = [local.casefold(), *(part.casefold() for part in user.name.split())]
        if user.id != getattr(author, "id", None) and any(word.startswith(prefix) for word in words):
            found.append({"name": user.name, "handle": local})
        if len(found) == limit:
            break
    return found


def mentioned(obj: ContentObject, body: str, author) -> list[int]:
    """The readers named after an @: "@Marie Dupont", "@marie" or "@marie.dupont" (local part)."""
    text = body.casefold()
    if "@" not in text:
        return []
    found = []
    for user in db.session.scalars(readers(obj)):
        if user.id == getattr(author, "id", None):
            continue
        local = user.email.split("@", 1)[0].casefold()
        names = {user.name.casefold(), user.name.split(" ")[0].casefold(), local}
        if any(re.search(r"(?<![\w@])@" + re.escape(name) + r"(?![\w.-]*\w)", text) for name in names if name):
            found.append(user.id)
    return found


def context(obj: ContentObject) -> dict:
    """What a page showing the conversation needs (the post page, its edit form)."""
    from app.comments.forms import CommentForm

    return {"conversation": thread(obj), "comment_form": CommentForm(formdata=None)}


def add(obj: ContentObject, author, body: str, *, kind: str | None = None, notify: bool = True) -> Comment:
    body = (body or "").strip()
    if not body:
        raise ValueError("empty comment")
    comment = Comment(
        object_id=obj.id,
        author_id=getattr(author, "id", None),
        body=body[:MAX_LENGTH],
        kind=kind,
        pinned=kind == "changes_requested",
    )
    db.session.add(comment)
    db.session.flush()
    if kind != "changes_requested":  # that one is in the audit trail with its status change
        audit.record("comment_added", obj, actor=author, comment=comment.body, data={"comment_id": comment.id})
    if notify:
        from app.notifications.events import notify as send

        send(
            mentioned(obj, comment.body, author),
            NotificationEvent.MENTIONED,
            obj,
            actor=author,
            data={"title": obj.title, "comment": comment.body[:500]},
        )
    return comment
