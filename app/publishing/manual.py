"""What people do about publications that did not go through: retry, or settle by hand.

Retrying an `unknown` publication keeps its idempotency key (if Make did publish it, the
scenario's Data Store turns the new run into a no-op that calls back the stored result);
retrying a `failed` one starts a new generation with a new key. Every action is audited.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from app import audit, workflow
from app.extensions import db
from app.models import CampaignScenario, ContentObject, ObjectStatus, Publication, PublicationStatus as P, SocialAccount
from app.models.base import utcnow
from app.publishing import outbox
from app.publishing.status import sync_object_status
from app.publishing.urls import safe_external_url


# The publication a row of the attention list is about, as opposed to its newer generations.
Latest = aliased(Publication, name="latest")


class ManualActionError(Exception):
    pass


class InvalidAddress(ManualActionError):
    """The address typed for the live post is not one we may show as a link."""


def _locked(publication_id: int) -> Publication:
    """The publication, locked after its post: the order of every other writer (post, then
    publication: app/publishing/sender.py, status.py), so that a retry or a settlement never
    deadlocks with a callback or a send on the same post."""
    object_id = db.session.scalar(sa.select(Publication.object_id).where(Publication.id == publication_id))
    if object_id is None:
        raise LookupError(publication_id)
    db.session.get(ContentObject, object_id, with_for_update=True, populate_existing=True)
    publication = db.session.get(Publication, publication_id, with_for_update=True, populate_existing=True)
    if publication is None:
        raise LookupError(publication_id)
    return publication


def _reopen_object(publication: Publication, actor) -> None:
    obj = db.session.get(ContentObject, publication.object_id, with_for_update=True)
    if obj.status is ObjectStatus.FAILED:
        workflow.transition(obj, ObjectStatus.PUBLISHING, actor=actor, comment="retry")


def retry(publication_id: int, *, actor) -> Publication:
    publication = _locked(publication_id)
    if publication.status is P.UNKNOWN:
        publication.status, publication.next_attempt_at = P.PENDING, utcnow()
        publication.first_attempt_at = None  # a person's retry gets a whole retry window (sender)
        audit.record("publication_retried", publication, actor=actor, data={"same_key": True})
        _reopen_object(publication, actor)
        return publication
    if publication.status is P.FAILED:
        newest = db.session.scalar(
            sa.select(sa.func.max(Publication.generation)).where(
                Publication.object_id == publication.object_id,
                Publication.campaign_scenario_id == publication.campaign_scenario_id,
            )
        )
        if newest != publication.generation:
            raise ManualActionError(_l("This publication was already retried."))
        generation = publication.generation + 1
        fresh = Publication(
            object_id=publication.object_id,
            campaign_scenario_id=publication.campaign_scenario_id,
            generation=generation,
            fingerprint=publication.fingerprint,
            next_attempt_at=utcnow(),
            idempotency_key=outbox.idempotency_key(publication.object_id, publication.campaign_scenario_id, generation),
        )
        db.session.add(fresh)
        db.session.flush()
        audit.record(
            "publication_retried", publication, actor=actor, data={"same_key": False, "new_publication": fresh.id}
        )
        _reopen_object(publication, actor)
        return fresh
    raise ManualActionError(_l("Only a failed or unknown publication can be retried."))


def settle(
    publication_id: int, *, published: bool, actor, external_url: str | None = None, reason: str | None = None
) -> Publication:
    """Record by hand what a person checked on the network for an `unknown` publication.
    The address follows the callbacks' rule (app.publishing.urls): https only."""
    if published and external_url and safe_external_url(external_url) is None:
        raise InvalidAddress(_l("Enter the full address of the live post, starting with https://"))
    publication = _locked(publication_id)
    if publication.status is not P.UNKNOWN:
        raise ManualActionError(_l("Only a publication without news from Make can be settled by hand."))
    publication.status = P.PUBLISHED if published else P.FAILED
    publication.completed_at = utcnow()
    if published:
        publication.external_url, publication.last_error = external_url, None
    else:
        publication.last_error = reason or "marked failed by hand"
    audit.record(
        "publication_settled",
        publication,
        actor=actor,
        data={"published": published, "external_url": external_url},
        comment=reason,
    )
    sync_object_status(publication.object_id)
    return publication


def health(days: int = 7):
    """Per network over the last `days`: publications by status (one query)."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        sa.select(SocialAccount.platform, Publication.status, sa.func.count())
        .join(CampaignScenario, CampaignScenario.id == Publication.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(Publication.created_at >= since)
        .group_by(SocialAccount.platform, Publication.status)
    ).all()
    table: dict = {}
    for platform, status, count in rows:
        table.setdefault(platform, {s: 0 for s in P})[status] = count
    return dict(sorted(table.items(), key=lambda item: item[0].value))


def needing_attention(page: int, per_page: int = 30):
    """Targets whose latest generation failed or has no answer: a failure that a retry (a newer
    generation of the same post and target) has since taken over is history, not a task."""
    newer = (
        sa.select(Publication.id)
        .where(
            Publication.object_id == Latest.object_id,
            Publication.campaign_scenario_id == Latest.campaign_scenario_id,
            Publication.generation > Latest.generation,
        )
        .exists()
    )
    needing = sa.and_(Latest.status.in_([P.FAILED, P.UNKNOWN]), ~newer)
    query = (
        sa.select(Latest, ContentObject.title, SocialAccount.platform, SocialAccount.label)
        .join(ContentObject, ContentObject.id == Latest.object_id)
        .join(CampaignScenario, CampaignScenario.id == Latest.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(needing)
        .order_by(Latest.updated_at.desc(), Latest.id.desc())
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Latest).where(needing))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total
