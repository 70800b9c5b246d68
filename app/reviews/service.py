import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ContentObject, ObjectStatus


def queue_page(page: int, per_page: int = 20):
    """Objects waiting for a decision, oldest first, with their campaign in the same query."""
    query = (sa.select(ContentObject)
             .options(joinedload(ContentObject.campaign))
             .where(ContentObject.status == ObjectStatus.IN_REVIEW)
             .order_by(ContentObject.updated_at, ContentObject.id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
