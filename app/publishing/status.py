"""Publication statuses only move forward; an object's status follows from its publications."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on

from app import workflow
from app.extensions import db
from app.models import ContentObject, ObjectStatus, Publication, PublicationStatus as P

# A callback may arrive late, twice or out of order: a status never moves to a lower rank.
# `published` outranks `failed`: if any attempt of a key published, the post exists.
RANK = {P.PENDING: 0, P.SENDING: 1, P.SENT: 2, P.UNKNOWN: 3, P.FAILED: 4, P.PUBLISHED: 5}
IN_FLIGHT = {P.PENDING, P.SENDING, P.SENT}
# The object statuses that follow from the publications once publishing has started.
FOLLOWS_PUBLICATIONS = {ObjectStatus.PUBLISHING, ObjectStatus.PUBLISHED, ObjectStatus.FAILED}


def moves_forward(current: P, target: P) -> bool:
    return RANK[target] > RANK[current]


def object_status_from(statuses: list[P]) -> ObjectStatus | None:
    """published when every target published; failed when any failed or is unknown and none
    is still in flight; publishing otherwise. None when there is nothing to judge."""
    if not statuses:
        return None
    if all(s is P.PUBLISHED for s in statuses):
        return ObjectStatus.PUBLISHED
    if any(s in IN_FLIGHT for s in statuses):
        return ObjectStatus.PUBLISHING
    return ObjectStatus.FAILED


def latest_publications(object_id: int):
    """The newest generation of each target of an object (older generations are history).

    One DISTINCT ON over the object's own rows: a post's status must never be judged on another
    post's publications to the same scenario (the same scenario and generation number are
    shared by every post of the campaign)."""
    return (
        sa.select(Publication)
        .where(Publication.object_id == object_id)
        .ext(distinct_on(Publication.campaign_scenario_id))
        .order_by(Publication.campaign_scenario_id, Publication.generation.desc())
    )


def wrong_statuses(object_ids: list[int] | None = None) -> list[tuple[int, ObjectStatus, ObjectStatus | None]]:
    """(object id, status, expected) of each object whose status disagrees with its own latest
    publications: a check for tests and benchmarks, computed in Python from the raw rows (not
    through `latest_publications`, whose SQL it checks).

    A publishing, published or failed object must be `object_status_from` its own latest
    publications; an approved or scheduled one must have sent nothing yet; any other status
    (draft, in review...) must have nothing waiting to be sent."""
    rows = sa.select(
        Publication.object_id, Publication.campaign_scenario_id, Publication.generation, Publication.status
    )
    objects = sa.select(ContentObject.id, ContentObject.status)
    if object_ids is not None:
        rows = rows.where(Publication.object_id.in_(object_ids))
        objects = objects.where(ContentObject.id.in_(object_ids))
    newest: dict[tuple[int, int], tuple[int, P]] = {}
    for object_id, scenario_id, generation, status in db.session.execute(rows):
        if (object_id, scenario_id) not in newest or generation > newest[object_id, scenario_id][0]:
            newest[object_id, scenario_id] = (generation, status)
    latest: dict[int, list[P]] = {}
    for (object_id, _), (_, status) in newest.items():
        latest.setdefault(object_id, []).append(status)
    wrong = []
    for object_id, status in db.session.execute(objects.order_by(ContentObject.id)):
        statuses = latest.get(object_id, [])
        if status in FOLLOWS_PUBLICATIONS:
            expected = object_status_from(statuses)
        elif status in (ObjectStatus.APPROVED, ObjectStatus.SCHEDULED):
            expected = status if all(s is P.PENDING for s in statuses) else ObjectStatus.PUBLISHING
        else:
            expected = status if not any(s in IN_FLIGHT for s in statuses) else None
        if expected is not status:
            wrong.append((object_id, status, expected))
    return wrong


def sync_object_status(object_id: int) -> None:
    """Let the object's status follow its publications (a system transition, audited).

    The object row is locked first, so two callbacks of the same object finishing at once are
    applied one after the other, the second one seeing the first one's publication."""
    obj = db.session.get(ContentObject, object_id, with_for_update=True, populate_existing=True)
    statuses = list(db.session.scalars(latest_publications(obj.id).with_only_columns(Publication.status)))
    target = object_status_from(statuses)
    if target is not None and target is not obj.status and workflow.can(obj, target, None):
        workflow.transition(obj, target, data={"publications": [s.value for s in statuses]})
