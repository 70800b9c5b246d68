"""Publication statuses only move forward; an object's status follows from its publications."""
from __future__ import annotations

import sqlalchemy as sa

from app import workflow
from app.extensions import db
from app.models import ContentObject, ObjectStatus, Publication, PublicationStatus as P

# A callback may arrive late, twice or out of order: a status never moves to a lower rank.
# `published` outranks `failed`: if any attempt of a key published, the post exists.
RANK = {P.PENDING: 0, P.SENDING: 1, P.SENT: 2, P.UNKNOWN: 3, P.FAILED: 4, P.PUBLISHED: 5}
IN_FLIGHT = {P.PENDING, P.SENDING, P.SENT}


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
    """The newest generation of each target of an object (older generations are history)."""
    newest = (sa.select(Publication.campaign_scenario_id, sa.func.max(Publication.generation).label("g"))
              .where(Publication.object_id == object_id)
              .group_by(Publication.campaign_scenario_id).subquery())
    return (sa.select(Publication)
            .join(newest, sa.and_(Publication.campaign_scenario_id == newest.c.campaign_scenario_id,
                                  Publication.generation == newest.c.g)))


def sync_object_status(object_id: int) -> None:
    """Let the object's status follow its publications (a system transition, audited).

    The object row is locked first, so two callbacks of the same object finishing at once are
    applied one after the other, the second one seeing the first one's publication."""
    obj = db.session.get(ContentObject, object_id, with_for_update=True, populate_existing=True)
    statuses = list(db.session.scalars(latest_publications(obj.id).with_only_columns(Publication.status)))
    target = object_status_from(statuses)
    if target is not None and target is not obj.status and workflow.can(obj, target, None):
        workflow.transition(obj, target, data={"publications": [s.value for s in statuses]})
