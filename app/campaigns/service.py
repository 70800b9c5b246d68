import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign


def list_page(page: int, per_page: int = 50):
    return db.paginate(sa.select(Campaign).order_by(Campaign.status, Campaign.created_at.desc(), Campaign.id.desc()), page=page, per_page=per_page,
                       error_out=False)
