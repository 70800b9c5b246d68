"""The words of a notification, in the reader's language: one line for the list, a subject and
the parts of a mail (templates/notifications/mail.*), the address of the post."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from app.labels import platform_label
from app.models import NotificationEvent as E, Platform


def post_url(object_id: int | None) -> str:
    """Straight to the post, whoever reads it (the route picks the page for their role)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/posts/{object_id}" if object_id else f"{base}/notifications"


def summary(event: E, data: dict, actor: str | None) -> str:
    title, who = data.get("title", ""), actor or _("Someone")
    if event is E.REVIEW_REQUESTED:
        return _("“%(title)s” waits for your review.", title=title)
    if event is E.CHANGES_REQUESTED:
        return _("%(who)s requested changes on “%(title)s”.", who=who, title=title)
    if event is E.APPROVED:
        return _("%(who)s approved “%(title)s”.", who=who, title=title)
    if event is E.PUBLISHED:
        return _("“%(title)s” is published.", title=title)
    if event is E.FAILED:
        return _("“%(title)s” could not be published.", title=title)
    if event is E.REVIEW_LINK_USED:
        if data.get("decision") == "approved":
            return _("%(who)s approved “%(title)s” from a review link.", who=data.get("reviewer", who), title=title)
        return _(
            "%(who)s requested changes on “%(title)s” from a review link.", who=data.get("reviewer", who), title=title
        )
    return _("%(who)s mentioned you about “%(title)s”.", who=who, title=title)


def details(event: E, data: dict) -> list[str]:
    """The lines under the summary: the comment, each link, each reason in words."""
    if event in (E.CHANGES_REQUESTED, E.MENTIONED, E.REVIEW_LINK_USED) and data.get("comment"):
        return [data["comment"]]
    if event is E.PUBLISHED:
        return [
            _(
                "%(network)s (%(account)s): %(url)s",
                network=platform_label(Platform(link["platform"])),
                account=link["account"],
                url=link["url"],
            )
            for link in data.get("links", [])
        ]
    if event is E.FAILED:
        return [
            _(
                "%(network)s (%(account)s): %(reason)s",
                network=platform_label(Platform(item["platform"])),
                account=item["account"],
                reason=reason_in_words(item["reason"]),
            )
            for item in data.get("reasons", [])
        ]
    return []


def reason_in_words(reason: str) -> str:
    """What the network or Make answered, said plainly; the raw answer follows for whoever
    must fix it."""
    raw = (reason or "").strip()
    lowered = raw.lower()
    if not raw:
        return _("no reason was given")
    if lowered.startswith("http 4") or "rejected" in lowered or "invalid" in lowered:
        words = _("the network or Make refused the post")
    elif lowered.startswith("http 5") or "timeout" in lowered or "unavailable" in lowered:
        words = _("Make could not be reached for too long")
    elif "media" in lowered or "fetch" in lowered:
        words = _("a media file could not be fetched")
    else:
        words = _("the publication failed")
    return f"{words} ({raw[:300]})"
