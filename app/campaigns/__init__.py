from flask import Blueprint

bp = Blueprint("campaigns", __name__)

from app.campaigns import object_views, views  # noqa: E402,F401
