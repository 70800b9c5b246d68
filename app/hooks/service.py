import sqlalchemy as sa

from app.extensions import db
from app.models import CallbackEvent


def list_page(page: int, per_page: int = 50):
    """The latest callbacks received from Make, newest first."""
    query = sa.select(CallbackEvent).order_by(CallbackEvent.received_at.desc(), CallbackEvent.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
