from flask import Blueprint

bp = Blueprint("calendar", __name__)

from app.calendar import views  # noqa: E402,F401
