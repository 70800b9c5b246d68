"""The conversation on each post (docs/notifications.md#conversation)."""

from flask import Blueprint

bp = Blueprint("comments", __name__)

from app.comments import views  # noqa: E402,F401
