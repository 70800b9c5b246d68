"""Make checks in the browser: a campaign scenario's box (why Make refused it, "Test in Make"
and where its dry run stands), the doctor's page and the drift note of the publishing page."""

from flask import Blueprint

bp = Blueprint("make_checks", __name__)

from app.make_checks import views  # noqa: E402,F401
