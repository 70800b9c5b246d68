"""Display names for the vocabularies, in the user's language."""
from flask_babel import lazy_gettext as _l

from app.models import ObjectStatus, Platform, PublicationStatus, Role

ROLE_LABELS = {Role.ADMIN: _l("Administrator"), Role.EDITOR: _l("Editor"), Role.APPROVER: _l("Approver")}
PLATFORM_LABELS = {Platform.FACEBOOK: "Facebook", Platform.INSTAGRAM: "Instagram",
                   Platform.YOUTUBE: "YouTube", Platform.LINKEDIN: "LinkedIn", Platform.X: "X",
                   Platform.TIKTOK: "TikTok"}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def platform_label(platform: Platform) -> str:
    return PLATFORM_LABELS[platform]

OBJECT_STATUS_LABELS = {
    ObjectStatus.DRAFT: _l("Draft"), ObjectStatus.IN_REVIEW: _l("In review"),
    ObjectStatus.CHANGES_REQUESTED: _l("Changes requested"), ObjectStatus.APPROVED: _l("Approved"),
    ObjectStatus.SCHEDULED: _l("Scheduled"), ObjectStatus.PUBLISHING: _l("Publishing"),
    ObjectStatus.PUBLISHED: _l("Published"), ObjectStatus.FAILED: _l("Failed"),
}
EVENT_LABELS = {
    "publication_retried": _l("publication retried"),
    "publication_settled": _l("publication settled by hand"),
    "publish_attempt": _l("sent to Make"),
    "publication_unknown": _l("no answer from Make in time"),
    "fingerprint_mismatch": _l("published content differs from what was approved"),
}


def status_label(status: ObjectStatus) -> str:
    return str(OBJECT_STATUS_LABELS[status])


def event_label(action: str) -> str:
    """`status:approved` reads "moved to Approved"; other actions have their own words."""
    if action.startswith("status:"):
        return str(_l("moved to %(status)s", status=status_label(ObjectStatus(action.split(":", 1)[1]))))
    return str(EVENT_LABELS.get(action, action))

PUBLICATION_STATUS_LABELS = {
    PublicationStatus.PENDING: _l("Waiting"), PublicationStatus.SENDING: _l("Sending"),
    PublicationStatus.SENT: _l("Sent"), PublicationStatus.PUBLISHED: _l("Published"),
    PublicationStatus.FAILED: _l("Failed"), PublicationStatus.UNKNOWN: _l("No answer"),
}


def publication_status_label(status: PublicationStatus) -> str:
    return str(PUBLICATION_STATUS_LABELS[status])
