"""Local development only: the mails the local SMTP sink (started by `make run`) received,
shown on /dev/mail. The blueprint is registered only when APP_ENV=development and DEV_MAIL_DIR
is set, so the route does not exist anywhere else."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup

from app.security import ANY_USER, role_required

bp = Blueprint("devmail", __name__)


def _files() -> list[Path]:
    folder = Path(current_app.config["DEV_MAIL_DIR"])
    return sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.is_dir() else []


def _parsed(path: Path) -> dict:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return {
        "id": path.stem,
        "subject": message["Subject"],
        "to": message["To"],
        "from": message["From"],
        "date": message["Date"],
        "reply_to": message["Reply-To"],
        "text": text.get_content() if text else "",
        "has_html": html is not None,
    }


@bp.get("/dev/mail")
@role_required(*ANY_USER)
def index():
    return render_template(
        "notifications/devmail.html", mails=[_parsed(p) for p in _files()], folder=current_app.config["DEV_MAIL_DIR"]
    )


@bp.get("/dev/mail/<name>.html")
@role_required(*ANY_USER)
def html(name):
    """The HTML part as sent (the app's CSP applies: it runs nothing)."""
    path = Path(current_app.config["DEV_MAIL_DIR"]) / f"{name}.eml"
    if "/" in name or not path.is_file():
        abort(404)
    part = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body(("html",))
    if part is None:
        abort(404)
    return Markup(part.get_content()), 200, {"Content-Type": "text/html; charset=utf-8"}
