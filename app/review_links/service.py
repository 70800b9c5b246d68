"""Review links: a named outside person approves or requests changes on one post in review,
without an account (issue 13, point 4; README, "Outside reviewers").

The token is signed (itsdangerous, its own salt, like invitations and media links) and carries
the link's id and a random secret; the table keeps only the secret's SHA-256, and the expiry,
revocation and single use live in the row. A forged, altered or unknown token gets one answer.
The decision goes through app.reviews.service with a `LinkReviewer` as the actor: no user id,
the role of an approver for that one decision, so it counts as one approver's decision.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from app import audit
from app.config import signing_keys
from app.extensions import db, redis_store
from app.models import ContentObject, NotificationEvent, ObjectStatus, ReviewLink, Role
from app.models.base import utcnow
from app.reviews import chains, service as reviews

SALT = "review-link"
OPEN_STATUSES = (ObjectStatus.IN_REVIEW,)
MAX_DAYS = 90
# Decisions per client IP and window: a person decides once; this only slows a script.
DECISIONS_PER_IP, DECISION_WINDOW_S = 20, 600


class LinkRefused(Exception):
    """Why a token opens nothing: "invalid" (forged, altered, unknown), "revoked", "used",
    "expired", or "not_in_review" (the post left review)."""

    def __init__(self, reason: str, link: ReviewLink | None = None):
        super().__init__(reason)
        self.reason, self.link = reason, link


@dataclass(frozen=True)
class LinkReviewer:
    """The actor of a decision made through a link: an approver for that decision, no account."""

    name: str
    email: str
    link_id: int
    id: None = None

    def has_role(self, *roles) -> bool:
        return Role.APPROVER in roles


@dataclass(frozen=True)
class Visit:
    ip: str | None
    user_agent: str

    def data(self) -> dict:
        return {"ip": self.ip, "user_agent": self.user_agent[:300]}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_keys(current_app.config), salt=SALT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    obj: ContentObject, *, by, name: str, email: str, days: int | None, step_id: int | None = None
) -> tuple[ReviewLink, str]:
    """A new link for a post in review, and its token (shown once: only its hash is stored).
    In a campaign with an approval chain the link is one approver of one step: `step_id`, or
    the step the post waits for now (docs/approval-chains.md)."""
    if obj.status not in OPEN_STATUSES:
        raise LinkRefused("not_in_review")
    steps = chains.steps_of(obj.campaign_id)
    if steps:
        step = next((s for s in steps if s.id == step_id), None) or chains.current_step(obj, steps) or steps[-1]
        step_id = step.id
    else:
        step_id = None
    days = days or current_app.config["REVIEW_LINK_DEFAULT_DAYS"]
    secret = secrets.token_urlsafe(24)
    link = ReviewLink(
        object_id=obj.id,
        created_by_id=by.id,
        reviewer_name=name.strip(),
        reviewer_email=email.strip(),
        secret_hash=_hash(secret),
        expires_at=utcnow() + timedelta(days=min(days, MAX_DAYS)),
        step_id=step_id,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        "review_link_created",
        obj,
        actor=by,
        data={
            "link": link.id,
            "name": link.reviewer_name,
            "email": link.reviewer_email,
            "expires_at": link.expires_at.isoformat(),
            "step": step_id,
        },
    )
    token = _serializer().dumps({"l": link.id, "s": secret})
    _mail_link(link, current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("review_links.open_link", token=token))
    return link, token


def _mail_link(link: ReviewLink, url: str) -> None:
    """The link is mailed to the person it names, after the commit, by the notification
    mailer (docs/notifications.md#review-links-by-mail); the token travels in that one broker
    message only, never in the database."""
    from app.tasks import by_name, send_after_commit

    mail_review_link = by_name("mail_review_link")

    send_after_commit(db.session(), mail_review_link, link.id, url)


def links_of(obj: ContentObject) -> list[ReviewLink]:
    return list(db.session.scalars(ReviewLink.of_object(obj.id)))


def get_link(obj: ContentObject, link_id: int) -> ReviewLink | None:
    return db.session.scalar(
        sa.select(ReviewLink).where(ReviewLink.id == link_id, ReviewLink.object_id == obj.id).with_for_update()
    )


def revoke(link: ReviewLink, obj: ContentObject, *, by) -> None:
    if link.revoked_at is None and link.used_at is None:
        link.revoked_at = utcnow()
        audit.record("review_link_revoked", obj, actor=by, data={"link": link.id, "name": link.reviewer_name})


def resolve(token: str, *, lock: bool = False) -> tuple[ReviewLink, ContentObject]:
    """The link and its post, if the token may still decide; `LinkRefused` says why not."""
    try:
        data = _serializer().loads(token)
        link_id, secret = int(data["l"]), str(data["s"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused("invalid")
    link = db.session.get(ReviewLink, link_id, with_for_update=lock)
    if link is None or not hmac.compare_digest(link.secret_hash, _hash(secret)):
        raise LinkRefused("invalid")
    state = link.state()
    if state.value != "active":
        raise LinkRefused(state.value, link)
    obj = db.session.get(ContentObject, link.object_id, with_for_update=lock)
    if obj.status not in OPEN_STATUSES:
        raise LinkRefused("not_in_review", link)
    if link.step_id is not None:
        step = chains.current_step(obj)
        if step is not None and step.id != link.step_id:
            raise LinkRefused("not_at_step", link)
    return link, obj


def resolve_decided(token: str, *, lock: bool = False) -> tuple[ReviewLink, ContentObject]:
    """The link and its post, if the token approved through it (the undo's check; whether the
    approval may still be undone is `undo_offer`'s)."""
    try:
        link, obj = resolve(token, lock=lock)
    except LinkRefused as refused:
        if refused.reason != "used" or refused.link.decision != "approved":
            raise
        link = refused.link
        return link, db.session.get(ContentObject, link.object_id, with_for_update=lock)
    raise LinkRefused("not_decided", link)


def _approval_of(link: ReviewLink, obj: ContentObject):
    """The approval given through `link` if it is still the one that stands: the post's approval
    (the link completed the review), or the approval of an earlier step of its chain."""
    if link.approval_id is not None:
        latest = reviews.latest_approval(obj)
        approved = obj.status in (ObjectStatus.APPROVED, ObjectStatus.SCHEDULED)
        return latest if approved and latest is not None and latest.id == link.approval_id else None
    if obj.status is not ObjectStatus.IN_REVIEW:
        return None
    return reviews.own_step_approval(obj, _reviewer(link))


def _reviewer(link: ReviewLink) -> LinkReviewer:
    """The actor of what the person does through `link`, under the name they gave."""
    return LinkReviewer(name=link.decided_name or link.reviewer_name, email=link.reviewer_email, link_id=link.id)


def undo_offer(link: ReviewLink) -> reviews.UndoOffer | None:
    """What the "Thank you" page offers after an approval through `link`: the same undo bar,
    and the same APPROVAL_UNDO_S, as an approver in the CMS (docs/approval-chains.md)."""
    if link.decision != "approved" or link.used_at is None:
        return None
    obj = db.session.get(ContentObject, link.object_id)
    approval = _approval_of(link, obj)
    return reviews.undo_offer(obj, approval) if approval is not None else None


def undo(link: ReviewLink, obj: ContentObject, *, visit: Visit) -> int:
    """Take back the approval given through `link` (the caller holds both rows locked, from
    resolve_decided(lock=True), and commits): through the reviews service, as an approver's
    undo, then the link may decide again. UndoRefused says why not. Returns how many
    publications were withdrawn."""
    from app.notifications.events import withdraw_held

    if _approval_of(link, obj) is None:
        raise reviews.UndoRefused(_l("This approval can no longer be undone: the post has moved on."))
    reviewer = _reviewer(link)
    withdrawn = reviews.undo_approval(obj, by=reviewer)
    withdraw_held(obj, NotificationEvent.REVIEW_LINK_USED)  # held for the window by _notify_editors
    audit.record(
        "review_link_undone",
        obj,
        data={"link": link.id, "name": reviewer.name, "withdrawn_publications": withdrawn, **visit.data()},
    )
    link.used_at = link.decision = link.approval_id = None
    return withdrawn


def record_open(link: ReviewLink, visit: Visit, outcome: str) -> None:
    """Every opening of a link is audited, on its post, whether the page was shown or refused."""
    audit.record(
        "review_link_opened",
        db.session.get(ContentObject, link.object_id),
        data={"link": link.id, "outcome": outcome, **visit.data()},
    )


def media_urls(media) -> dict[int, str]:
    """Each medium through the signed, expiring links the publication payload uses
    (app/media/links.py), on this site's own address: the page needs no login to show them."""
    from app.media import links

    return {asset.id: url_for("media_links.serve", token=links.make_token(asset)) for asset in media}


def throttled(ip: str | None) -> bool:
    """Counts this decision attempt; True once the client's IP has made too many."""
    key = redis_store.key(f"review_link:ip:{ip or 'unknown'}")
    pipe = redis_store.client.pipeline()
    pipe.set(key, 0, ex=DECISION_WINDOW_S, nx=True).incr(key)
    return pipe.execute()[1] > DECISIONS_PER_IP


def decide(
    link: ReviewLink, obj: ContentObject, *, approve: bool, name: str, comment: str | None, visit: Visit
) -> None:
    """Approve or request changes through the reviews service, then spend the link (the caller
    holds both rows locked, from resolve(lock=True), and commits)."""
    name = name.strip() or link.reviewer_name
    reviewer = LinkReviewer(name=name, email=link.reviewer_email, link_id=link.id)
    if approve:
        approval = reviews.approve(obj, by=reviewer)
    else:
        approval = reviews.request_changes(obj, by=reviewer, comment=comment or "")
    db.session.flush()
    step_approval = approval.approval if isinstance(approval, reviews.StepOutcome) else None
    link.used_at, link.decided_name = utcnow(), name
    link.approval_id = None if step_approval else approval.id
    link.decision = "approved" if approve else "changes_requested"
    audit.record(
        "review_link_used",
        obj,
        comment=comment or None,
        data={
            "link": link.id,
            "decision": link.decision,
            "name": name,
            "email": link.reviewer_email,
            "invited_as": link.reviewer_name,
            "approval": link.approval_id,
            "step": link.step_id,
            "step_approval": step_approval and step_approval.id,
            **visit.data(),
        },
    )
    _notify_editors(link, obj, comment)


def _notify_editors(link: ReviewLink, obj: ContentObject, comment: str | None) -> None:
    """The post's author and the link's creator are told. An approval's mail waits for the undo
    window to close, as an approver's "approved" does, and an undo withdraws it (`undo`)."""
    from app.notifications.events import notify
    from app.publishing.outbox import undo_deadline

    recipients = {user_id for user_id in (obj.author_id, link.created_by_id) if user_id is not None}
    notify(
        sorted(recipients),
        NotificationEvent.REVIEW_LINK_USED,
        obj,
        data={"title": obj.title, "reviewer": link.decided_name, "decision": link.decision, "comment": comment or ""},
        due_at=undo_deadline(utcnow()) if link.decision == "approved" else None,
    )
