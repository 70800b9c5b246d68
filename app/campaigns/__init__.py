from flask import Blueprint

bp = Blueprint("campaigns", __name__)

from app.campaigns import duplicate_views, object_views, views  # noqa: E402,F401
