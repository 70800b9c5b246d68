import sqlalchemy as sa

from app.extensions import db
from app.models import SocialAccount


def list_page(page: int, per_page: int = 50):
    return db.paginate(sa.select(SocialAccount).order_by(SocialAccount.platform, SocialAccount.label), page=page, per_page=per_page,
                       error_out=False)
