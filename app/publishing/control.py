"""What an editor does about a post's delivery from its page: unschedule it, publish it now,
retry a target that failed (the admin's rules: app.publishing.manual.retry), and read why a
target failed in words.

Unschedule rule (said on the page): a scheduled post's unsent publications are withdrawn and
the post stays approved, without a date; nothing leaves until it gets a date again (the
calendar) or someone presses "Publish now". Its approval still holds because its content has
not changed (an edit sends it back to review, app/campaigns/objects.py).

Every change locks the post first, then its publications: the order of every writer
(app/publishing/sender.py, status.py). The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import aliased

from app import audit, workflow
from app.extensions import db
from app.models import (
    CampaignScenario,
    ContentObject,
    Decision,
    ObjectStatus as S,
    Platform,
    Publication,
    PublicationStatus as P,
    SocialAccount,
)
from app.models.base import utcnow
from app.publishing import manual, outbox
from app.publishing.status import latest_publications

RETRYABLE = (P.FAILED, P.UNKNOWN)  # what manual.retry accepts


class ControlError(Exception):
    """Said to the editor (409): why the action did not happen."""


@dataclass(frozen=True)
class Delivery:
    publication: Publication
    platform: Platform
    account: str
    reason: str | None  # a failure in words, in the reader's language
    can_retry: bool


def deliveries(obj: ContentObject) -> list[Delivery]:
    """Each target's newest publication (older generations are history), with its account."""
    latest = latest_publications(obj.id).subquery()
    row = aliased(Publication, latest)
    rows = db.session.execute(
        sa.select(row, SocialAccount.platform, SocialAccount.label)
        .join(CampaignScenario, CampaignScenario.id == row.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .order_by(SocialAccount.platform, SocialAccount.label)
    ).all()
    return [
        Delivery(
            publication,
            platform,
            label,
            failure_reason(publication) if publication.status in RETRYABLE else None,
            publication.status in RETRYABLE,
        )
        for publication, platform, label in rows
    ]


# (words found in what was recorded, lower case) -> the sentence; the first match wins. The
# recorded texts: the sender's "HTTP <status>: <body>" and transport errors
# (app/publishing/sender.py), a failed callback's "<code>: <message>" with the network module's
# message (app/publishing/results.py, docs/external-apis.md), the sweep's and settlement's notes.
_REASONS = (
    (
        ("no callback from make in time",),
        _l("Make did not say whether the post went out. Check the network before retrying."),
    ),
    (("marked failed by hand",), _l("Someone checked the network and marked it as not published.")),
    (
        ("media not publicly reachable",),
        _l("Make could not fetch a media file from the CMS: its public address could not be reached."),
    ),
    (("rendition", "no public media url"), _l("A media file could not be prepared in the format this network needs.")),
    (("no webhook url",), _l("The Make scenario of this account is not set up yet: an admin must set it up.")),
    # The sender's own records: Make's webhook answered this, or could not be reached.
    (("http 404", "http 410"), _l("The Make scenario of this account is off or was deleted: an admin must check it.")),
    (
        ("http 401", "http 403"),
        _l("Make refused the request: the scenario's access has changed, an admin must check it."),
    ),
    (
        ("http 429", "rate limit", "ratelimit", "too many"),
        _l("The network limited how many posts may be sent for now: retry a little later."),
    ),
    (
        ("http 5", "timeout", "connecterror", "remoteprotocolerror", "readerror", "writeerror"),
        _l("Make could not be reached for hours, so the publication gave up."),
    ),
    (("http 4",), _l("Make refused the publication request.")),
    # A failed callback: the network module's message, as Make reported it.
    (
        (
            "access token",
            "session has expired",
            "oauth",
            "not authorized",
            "permission",
            "invalidaccesstoken",
            "accountvalidation",
        ),
        _l("The account's connection to the network has expired or lacks a permission: reconnect it in Make."),
    ),
    (("duplicate",), _l("The network refused it as a duplicate of a recent post.")),
    (
        ("aspect ratio", "resolution", "image", "video", "media", "file", "format", "maxfilesize"),
        _l("The network refused a media file (its format, size or shape)."),
    ),
    (
        ("caption", "text", "characters", "too long", "message"),
        _l("The network refused the text (too long, or with something it does not accept)."),
    ),
)


def failure_reason(publication: Publication) -> str:
    """Why a target failed, in a sentence for the editor; the recorded text stays the
    technical detail (shown apart, for whoever must fix it)."""
    recorded = (publication.last_error or "").lower()
    for words, sentence in _REASONS:
        if any(word in recorded for word in words):
            return str(sentence)
    return _("The network or Make refused the publication.")


def available(obj: ContentObject) -> dict[str, bool]:
    """Which delivery actions the post page offers (its campaign being active is the view's)."""
    return {
        "unschedule": obj.status is S.SCHEDULED,
        "publish_now": obj.status in (S.APPROVED, S.SCHEDULED),
        "undated": obj.status is S.APPROVED
        and not db.session.scalar(
            sa.select(sa.exists().where(Publication.object_id == obj.id, Publication.status == P.PENDING))
        ),
        "retry": True,
    }


def _pending(obj: ContentObject) -> list[Publication]:
    """The post's unsent publications, locked after the post (which the caller locked)."""
    return list(
        db.session.scalars(
            sa.select(Publication)
            .where(Publication.object_id == obj.id, Publication.status == P.PENDING)
            .order_by(Publication.id)
            .with_for_update()
        )
    )


def unschedule(obj: ContentObject, *, actor) -> int:
    """Stop a scheduled post: its unsent publications are withdrawn, it stays approved without a
    date. Returns how many were withdrawn."""
    if obj.status is not S.SCHEDULED:
        raise ControlError(_l("Only a scheduled post can be unscheduled."))
    _pending(obj)
    withdrawn = outbox.withdraw_pending(obj)
    was = obj.scheduled_at
    obj.scheduled_at = None
    workflow.transition(
        obj,
        S.APPROVED,
        actor=actor,
        comment="unscheduled",
        data={"scheduled_at": was.isoformat() if was else None, "withdrawn_publications": withdrawn},
    )
    return withdrawn


def publish_now(obj: ContentObject, *, actor) -> int:
    """Make an approved or scheduled post's publications due now. An approved post left without
    them (unscheduled) gets them written again from its approval, provided its content is still
    what was approved. Returns how many publications are due."""
    from app.reviews.service import latest_approval

    if obj.status not in (S.APPROVED, S.SCHEDULED):
        raise ControlError(_l("Only an approved or scheduled post can be published now."))
    now = utcnow()
    rows = _pending(obj)
    if rows:
        for publication in rows:
            publication.next_attempt_at = now
    else:
        approval = latest_approval(obj)
        if (
            approval is None
            or approval.decision is not Decision.APPROVED
            or approval.fingerprint != outbox.fingerprint(obj)
        ):
            raise ControlError(_l("This post changed since it was approved: submit it for review again."))
        rows = outbox.add_publications(obj, approval.fingerprint, due_at=now)
        if not rows:
            raise ControlError(_l("This post has no account to publish to."))
    was = obj.scheduled_at
    obj.scheduled_at = now  # the calendar shows it when it went out
    audit.record(
        "published_now",
        obj,
        actor=actor,
        data={"scheduled_at": was.isoformat() if was else None, "publications": len(rows)},
    )
    return len(rows)


def retry(obj: ContentObject, publication_id: int, *, actor) -> Publication:
    """An editor's retry of one of this post's targets, by the admin's rules (manual.retry)."""
    owner = db.session.scalar(sa.select(Publication.object_id).where(Publication.id == publication_id))
    if owner != obj.id:
        raise LookupError(publication_id)
    try:
        return manual.retry(publication_id, actor=actor)
    except manual.ManualActionError as refused:
        raise ControlError(str(refused)) from refused
