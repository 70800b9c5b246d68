from flask import Blueprint

bp = Blueprint("review_links", __name__)

from app.review_links import views  # noqa: E402,F401
