"""Display names for the vocabularies, in the user's language."""
from flask_babel import lazy_gettext as _l

from app.models import Platform, Role

ROLE_LABELS = {Role.ADMIN: _l("Administrator"), Role.EDITOR: _l("Editor"), Role.APPROVER: _l("Approver")}
PLATFORM_LABELS = {Platform.FACEBOOK: "Facebook", Platform.INSTAGRAM: "Instagram",
                   Platform.YOUTUBE: "YouTube", Platform.LINKEDIN: "LinkedIn", Platform.X: "X",
                   Platform.TIKTOK: "TikTok"}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def platform_label(platform: Platform) -> str:
    return PLATFORM_LABELS[platform]
