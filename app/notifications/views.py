from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Channel
from app.notifications import bp, messages, preferences, service
from app.rendering import fragment_or_redirect, render
from app.security import ANY_USER, role_required


def notification_words(notification, actors: dict) -> dict:
    """What a notification says, in the reader's language (for the list)."""
    return {
        "summary": messages.summary(notification.event, notification.data, actors.get(notification.actor_id)),
        "details": messages.details(notification.event, notification.data),
    }


def unread_badge() -> Markup:
    """The navigation's bell with the unread count (a global of every page; one cheap count)."""
    if not current_user.is_authenticated:
        return Markup("")
    try:
        unread = service.unread_count(current_user.id)
    except SQLAlchemyError:  # an error page while the database is away: the bell, without a count
        db.session.rollback()
        unread = 0
    return Markup(render_template("notifications/_badge.html", unread=unread))


@bp.get("/notifications/")
@role_required(*ANY_USER)
def index():
    page = service.page(current_user.id, request.args.get("page", 1, type=int))
    return render(
        "notifications/index.html",
        block="listing",
        page=page,
        actors=service.actor_names(page.items),
        unread=service.unread_count(current_user.id),
    )


@bp.get("/notifications/count")
@role_required(*ANY_USER)
def count():
    """The bell alone, polled once a minute by every page."""
    return (
        render_template("notifications/_badge.html", unread=service.unread_count(current_user.id)),
        200,
        {"Vary": "HX-Request"},
    )


@bp.post("/notifications/<int:notification_id>/read")
@role_required(*ANY_USER)
def mark_read(notification_id):
    notification = service.get_own(current_user.id, notification_id)
    service.mark_read(notification)
    db.session.commit()
    return fragment_or_redirect(
        "notifications/index.html",
        "item",
        url_for("notifications.index"),
        notification=notification,
        actors=service.actor_names([notification]),
        unread=service.unread_count(current_user.id),
        oob_badge=True,
    )


@bp.post("/notifications/read-all")
@role_required(*ANY_USER)
def mark_all_read():
    service.mark_all_read(current_user.id)
    db.session.commit()
    return redirect(url_for("notifications.index"), 303)


@bp.get("/notifications/<int:notification_id>/open")
@role_required(*ANY_USER)
def open_notification(notification_id):
    """Follow a notification: marked read, then its post."""
    notification = service.get_own(current_user.id, notification_id)
    service.mark_read(notification)
    db.session.commit()
    if notification.object_id is None:
        return redirect(url_for("notifications.index"), 303)
    return redirect(service.post_page(notification.object_id, current_user), 303)


@bp.get("/posts/<int:object_id>")
@role_required(*ANY_USER)
def open_post(object_id):
    """The address in mails and Teams cards: the post's page for whoever follows it."""
    return redirect(service.post_page(object_id, current_user), 303)


@bp.get("/notifications/preferences")
@role_required(*ANY_USER)
def edit_preferences():
    return _preferences_page()


@bp.post("/notifications/preferences")
@role_required(*ANY_USER)
def save_preferences():
    ticked = {tuple(value.split(":", 1)) for value in request.form.getlist("choice") if ":" in value}
    preferences.save(current_user, ticked)
    db.session.commit()
    return fragment_or_redirect(
        "notifications/preferences.html",
        "form",
        url_for("notifications.edit_preferences"),
        message=_("Your notification choices are saved."),
        category="success",
        saved=True,
        **_preferences_context(),
    )


def _preferences_context():
    return {
        "events": preferences.events_for(current_user),
        "channels": list(Channel),
        "event_labels": preferences.EVENT_LABELS,
        "channel_labels": preferences.CHANNEL_LABELS,
        "chosen": preferences.choices([current_user.id])[current_user.id],
    }


def _preferences_page():
    return render("notifications/preferences.html", **_preferences_context())
