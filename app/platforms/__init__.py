from flask import Blueprint

bp = Blueprint("platforms", __name__)

from app.platforms import views  # noqa: E402,F401
