"""A user's notifications: the list, the unread count, marking read; the page a post opens on."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, url_for

from app.extensions import db
from app.models import ContentObject, Notification, ObjectStatus, Role, User
from app.models.base import utcnow


def unread_count(user_id: int) -> int:
    """One index-only count (ix_notifications_unread): cheap enough for every page."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), Notification.in_app)
    )


def page(user_id: int, number: int, per_page: int = 20):
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id, Notification.in_app)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(query, page=number, per_page=per_page, error_out=False)


def actor_names(notifications) -> dict[int, str]:
    ids = {n.actor_id for n in notifications if n.actor_id}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


def get_own(user_id: int, notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        abort(404)
    return notification


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(user_id: int) -> int:
    return db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount


def post_page(object_id: int, user) -> str:
    """Where a post opens for `user`: its page for editors, the review queue while it waits
    for a decision, its history once decided (approvers never see drafts: 404)."""
    obj = db.session.get(ContentObject, object_id)
    if obj is None:
        abort(404)
    if user.has_role(Role.EDITOR):
        return url_for("campaigns.show_object", campaign_id=obj.campaign_id, object_id=obj.id)
    if obj.status is ObjectStatus.DRAFT:
        abort(404)
    if obj.status is ObjectStatus.IN_REVIEW:
        return url_for("reviews.index") + f"#review-{obj.id}"
    return url_for("reviews.history", object_id=obj.id)
