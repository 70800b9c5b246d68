"""Content objects reach the Meilisearch index without campaign code asking for it.

Objects change in many places (the editor's forms, the review workflow, the publication
pipeline, campaign renames), and a forgotten `schedule_object_sync` call would leave the
index silently stale. So the session says what changed instead: after each flush, the
objects added, touched or deleted, and every object of a renamed campaign, join the
transaction's sync message (`schedule_object_sync`), which leaves after the commit.

"Touched" is SQLAlchemy's optimistic `dirty` (an attribute was set, even to its old value):
an edit that only changes an object's targets still sets its fields, and an extra sync
costs one idempotent upsert. Core statements (`session.execute(update(...))`) are not
seen: code that changes objects in bulk calls `schedule_object_sync` itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy.orm import Session

from app.models import Campaign, ContentObject
from app.search import meili

DELETED_CAMPAIGN_OBJECTS = "search_deleted_campaign_objects"


def _active() -> bool:
    return has_app_context() and meili.configured()


@sa.event.listens_for(Session, "before_flush")
def _remember_objects_of_deleted_campaigns(session: Session, flush_context, instances) -> None:
    """The database cascades a campaign's deletion to its objects: read their ids first."""
    if not _active():
        return
    campaigns = [c.id for c in session.deleted if isinstance(c, Campaign)]
    if campaigns:
        ids = session.connection().scalars(sa.select(ContentObject.id).where(ContentObject.campaign_id.in_(campaigns)))
        session.info.setdefault(DELETED_CAMPAIGN_OBJECTS, set()).update(ids)


@sa.event.listens_for(Session, "after_flush")
def _schedule_changed_objects(session: Session, flush_context) -> None:
    if not _active():
        return
    from app.search import schedule_object_sync

    changed = session.new | session.dirty | session.deleted
    ids = {obj.id for obj in changed if isinstance(obj, ContentObject)}
    ids |= session.info.pop(DELETED_CAMPAIGN_OBJECTS, set())
    renamed = [
        c.id for c in session.dirty if isinstance(c, Campaign) and sa.inspect(c).attrs.name.history.has_changes()
    ]
    if renamed:
        ids.update(
            session.connection().scalars(sa.select(ContentObject.id).where(ContentObject.campaign_id.in_(renamed)))
        )
    schedule_object_sync(session, ids)
