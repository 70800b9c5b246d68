"""Delivering notifications: mails one by one or as a daily digest, Teams cards. Called by the
actors (app/notifications/tasks.py) and the scheduler's relay; safe to run twice.

A row is claimed with one conditional UPDATE that moves its due time past a lease
(`NOTIFY_CLAIM_TIMEOUT_S`), so two workers never mail the same row and a dead worker's rows are
handed over again once the lease is over. An SMTP error (or an unreachable server) leaves the
rows pending with a back-off: nothing is lost, the relay hands them over again. Only a refusal
of the recipient address itself (5xx on RCPT) gives up, with the reason kept."""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import timedelta

import httpx
import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from app.extensions import db
from app.models import MailState, Notification, TeamsMessage, User
from app.models.base import utcnow
from app.notifications import mail, messages
from app.notifications.service import actor_names

log = logging.getLogger(__name__)


def _lease():
    return utcnow() + timedelta(seconds=current_app.config["NOTIFY_CLAIM_TIMEOUT_S"])


def backoff(attempts: int) -> timedelta:
    base, ceiling = current_app.config["NOTIFY_BACKOFF_BASE_S"], current_app.config["NOTIFY_BACKOFF_MAX_S"]
    delay = min(ceiling, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.0))


def _due(column):
    """Due now: never tried (its message was just sent) or its back-off or lease is over."""
    return sa.or_(column.is_(None), column <= utcnow())


def claim_mail(ids: list[int]) -> list[int]:
    claimed = list(
        db.session.scalars(
            sa.update(Notification)
            .where(
                Notification.id.in_(ids), Notification.mail_state == MailState.PENDING, _due(Notification.mail_due_at)
            )
            .values(mail_due_at=_lease())
            .returning(Notification.id)
        )
    )
    db.session.commit()
    return claimed


def render_mail(user: User, notifications: list[Notification], actors: dict[int, str], *, digest: bool):
    """(subject, text, html) in the recipient's language."""
    locale = (
        user.locale if user.locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    with force_locale(locale):
        items = [
            {
                "summary": messages.summary(n.event, n.data, actors.get(n.actor_id)),
                "details": messages.details(n.event, n.data),
                "url": messages.post_url(n.object_id),
            }
            for n in notifications
        ]
        context = {
            "user": user,
            "items": items,
            "digest": digest,
            "locale": locale,
            "settings_url": messages.post_url(None).rsplit("/", 1)[0] + "/notifications/preferences",
        }
        from flask_babel import gettext as _

        subject = _("Your daily summary: %(count)d notifications", count=len(items)) if digest else items[0]["summary"]
        return (
            subject,
            render_template("notifications/mail_text.html", **context),
            render_template("notifications/mail.html", **context),
        )


def deliver_mail(ids: list[int]) -> int:
    """Mail the claimed rows over one SMTP connection; returns how many were sent."""
    claimed = claim_mail(ids)
    if not claimed:
        return 0
    rows = db.session.execute(
        sa.select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(Notification.id.in_(claimed))
        .order_by(Notification.id)
    ).all()
    actors = actor_names([n for n, _ in rows])
    sent = 0
    try:
        client = mail.connect(mail.settings())
    except (OSError, smtplib.SMTPException, mail.MailNotConfigured) as exc:
        _postpone([n for n, _ in rows], exc)
        return 0
    try:
        for notification, user in rows:
            subject, text, html = render_mail(user, [notification], actors, digest=False)
            try:
                client.send_message(mail.build(mail.address(user.name, user.email), subject, text, html))
            except smtplib.SMTPRecipientsRefused as exc:
                _give_up(notification, exc)
            except (OSError, smtplib.SMTPException) as exc:
                _postpone([n for n, _ in rows if n.mail_state is MailState.PENDING and n.mailed_at is None], exc)
                return sent
            else:
                notification.mail_state, notification.mailed_at = MailState.SENT, utcnow()
                notification.mail_error = None
                db.session.commit()  # each mail recorded as soon as the server took it
                sent += 1
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return sent


def _postpone(notifications, exc) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:1000]
    for n in notifications:
        n.mail_attempts += 1
        n.mail_error = reason
        n.mail_due_at = utcnow() + backoff(n.mail_attempts)
    db.session.commit()
    log.warning("notification mail postponed (%d rows): %s", len(notifications), reason)


def _give_up(notification, exc) -> None:
    notification.mail_attempts += 1
    notification.mail_state, notification.mail_error = MailState.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
    db.session.commit()


def mail_review_link(link_id: int, url: str) -> bool:
    """Mail an outside reviewer their link, in the CMS's default language (they have no
    account, so no language of their own); SMTP errors raise, the actor retries. False when
    the link can no longer be used (revoked, used, expired): nothing is sent."""
    from flask_babel import format_datetime, gettext as _

    from app.models import ContentObject, ReviewLink
    from app.models.review_links import LinkState

    link = db.session.get(ReviewLink, link_id)
    if link is None or link.state() is not LinkState.ACTIVE:
        return False
    obj = db.session.get(ContentObject, link.object_id)
    editor = db.session.get(User, link.created_by_id) if link.created_by_id else None
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        context = {
            "link": link,
            "url": url,
            "locale": locale,
            "until": format_datetime(link.expires_at, "short"),
            "intro": _(
                "%(editor)s asks for your review of “%(title)s”.",
                editor=editor.name if editor else current_app.config["MAIL_FROM"],
                title=obj.title,
            ),
        }
        subject = _("Your review is requested: “%(title)s”", title=obj.title)
        text = render_template("notifications/review_link_text.html", **context)
        html = render_template("notifications/review_link.html", **context)
    client = mail.connect(mail.settings())
    try:
        client.send_message(mail.build(mail.address(link.reviewer_name, link.reviewer_email), subject, text, html))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return True


def send_digest(user_id: int) -> int:
    """One mail with everything a user chose to receive as a digest since the last one."""
    user = db.session.get(User, user_id)
    rows = list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user_id, Notification.mail_state == MailState.DIGEST)
            .order_by(Notification.id)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows or user is None or not user.active:
        db.session.rollback()
        return 0
    subject, text, html = render_mail(user, rows, actor_names(rows), digest=True)
    client = mail.connect(mail.settings())  # an SMTP error: the rows stay for the actor's retry
    try:
        client.send_message(mail.build(mail.address(user.name, user.email), subject, text, html))
    finally:
        client.quit()
    for n in rows:
        n.mail_state, n.mailed_at = MailState.SENT, utcnow()
    db.session.commit()
    return len(rows)


def digest_recipients() -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Notification.user_id).distinct().where(Notification.mail_state == MailState.DIGEST)
        )
    )


# -- Teams -------------------------------------------------------------------------------------


def post_to_teams(message_id: int) -> str | None:
    from app.notifications import teams

    message = db.session.scalar(
        sa.update(TeamsMessage)
        .where(
            TeamsMessage.id == message_id,
            TeamsMessage.sent_at.is_(None),
            ~TeamsMessage.gave_up,
            _due(TeamsMessage.due_at),
        )
        .values(due_at=_lease())
        .returning(TeamsMessage)
    )
    db.session.commit()
    if message is None:
        return None
    url = teams.webhook_url(message.campaign_id)
    try:
        response = (
            httpx.post(url, json=teams.envelope(message), timeout=current_app.config["TEAMS_TIMEOUT_S"])
            if url
            else None
        )
    except httpx.HTTPError as exc:
        return _teams_retry(message, f"{type(exc).__name__}: {exc}")
    if response is None:
        message.gave_up, message.last_error = True, "no webhook on the campaign any more"
    elif response.is_success:
        message.sent_at, message.last_error = utcnow(), None
    elif response.status_code == 429 or response.status_code >= 500:
        return _teams_retry(message, f"HTTP {response.status_code}: {response.text[:300]}")
    else:
        message.gave_up, message.last_error = True, f"HTTP {response.status_code}: {response.text[:500]}"
    message.attempts += 1
    db.session.commit()
    return "sent" if message.sent_at else "gave_up"


def _teams_retry(message, reason: str) -> str:
    message.attempts += 1
    message.last_error, message.due_at = reason, utcnow() + backoff(message.attempts)
    db.session.commit()
    return "retry"


# -- The relay (scheduler) -----------------------------------------------------------------------


def relay(limit: int = 1000) -> int:
    """Hand over what is due again: mails after their back-off or a dead worker's lease, and the
    rows whose first message was lost (pending for longer than a lease)."""
    from app.tasks import by_name

    deliver_actor, teams_actor = by_name("deliver_mail"), by_name("post_to_teams")

    stale = utcnow() - timedelta(seconds=current_app.config["NOTIFY_CLAIM_TIMEOUT_S"])
    mail_ids = list(
        db.session.scalars(
            sa.select(Notification.id)
            .where(
                Notification.mail_state == MailState.PENDING,
                sa.or_(
                    Notification.mail_due_at <= utcnow(),
                    sa.and_(Notification.mail_due_at.is_(None), Notification.created_at < stale),
                ),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
    teams_ids = list(
        db.session.scalars(
            sa.select(TeamsMessage.id)
            .where(
                TeamsMessage.sent_at.is_(None),
                ~TeamsMessage.gave_up,
                sa.or_(
                    TeamsMessage.due_at <= utcnow(),
                    sa.and_(TeamsMessage.due_at.is_(None), TeamsMessage.created_at < stale),
                ),
            )
            .limit(limit)
        )
    )
    db.session.rollback()
    batch = current_app.config["NOTIFY_MAIL_BATCH"]
    for start in range(0, len(mail_ids), batch):
        deliver_actor.send(mail_ids[start : start + batch])
    for message_id in teams_ids:
        teams_actor.send(message_id)
    return len(mail_ids) + len(teams_ids)


def digest() -> int:
    from app.tasks import by_name

    digest_actor = by_name("send_digest")

    users = digest_recipients()
    db.session.rollback()
    for user_id in users:
        digest_actor.send(user_id)
    return len(users)
