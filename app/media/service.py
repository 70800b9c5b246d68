import sqlalchemy as sa

from app.extensions import db
from app.models import MediaAsset


def list_page(page: int, per_page: int = 50):
    return db.paginate(sa.select(MediaAsset).order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc()), page=page, per_page=per_page,
                       error_out=False)
