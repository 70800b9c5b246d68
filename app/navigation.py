"""The navigation each role sees (rules live here, not in templates)."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models import Role

# (endpoint, label, roles that see it)
NAV = (
    ("campaigns.index", _l("Campaigns"), (Role.EDITOR,)),
    ("calendar.index", _l("Calendar"), (Role.EDITOR, Role.APPROVER)),
    ("media.index", _l("Media"), (Role.EDITOR,)),
    ("reviews.index", _l("Review"), (Role.APPROVER,)),
    ("platforms.index", _l("Accounts"), (Role.ADMIN,)),
    ("hooks.index", _l("Deliveries"), (Role.ADMIN,)),
    ("auth.users", _l("Users"), (Role.ADMIN,)),
)


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    current = request.endpoint or ""
    return [
        {"url": url_for(endpoint), "label": label, "active": current.split(".")[0] == endpoint.split(".")[0]}
        for endpoint, label, roles in NAV
        if current_user.has_role(*roles)
    ]


def show_internals() -> bool:
    """Engine names, timings and Make's ids help whoever runs the service, not the people who
    write and approve posts: only admins see them."""
    return current_user.is_authenticated and current_user.role is Role.ADMIN
