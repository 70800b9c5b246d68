"""Notification actors: thin wrappers over app.notifications.delivery (safe to run twice).
Retries of mails and cards are scheduled in their rows (the relay hands them over again), not
in the broker; the digest is retried by the broker, its rows waiting meanwhile."""

from app.notifications import delivery
from app.tasks import actor


@actor(max_retries=0, queue_name="notify")
def deliver_mail(notification_ids: list[int]) -> None:
    """Mail these rows over one SMTP connection; a long list (an event for 1,000 people) is
    split into messages of NOTIFY_MAIL_BATCH here, not in the request that caused it."""
    from flask import current_app

    batch = current_app.config["NOTIFY_MAIL_BATCH"]
    if len(notification_ids) > batch:
        for start in range(0, len(notification_ids), batch):
            deliver_mail.send(notification_ids[start : start + batch])
        return
    delivery.deliver_mail(notification_ids)


@actor(max_retries=0, queue_name="notify")
def post_to_teams(message_id: int) -> None:
    delivery.post_to_teams(message_id)


@actor(max_retries=5, min_backoff=60_000, max_backoff=3_600_000, queue_name="notify")
def send_digest(user_id: int) -> None:
    delivery.send_digest(user_id)


@actor(max_retries=5, min_backoff=30_000, max_backoff=3_600_000, queue_name="notify")
def mail_review_link(link_id: int, url: str) -> None:
    """An outside reviewer's link, mailed to them (docs/notifications.md#review-links-by-mail)."""
    delivery.mail_review_link(link_id, url)
