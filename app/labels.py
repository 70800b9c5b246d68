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
    "object_created": _l("created the post"),
    "object_updated": _l("edited the post"),
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

# What became of one POST to Make's webhook (app.publishing.sender), and of one callback.
ATTEMPT_OUTCOME_LABELS = {
    "sent": _l("accepted by Make"), "retry": _l("refused for now, will be retried"),
    "failed": _l("refused"), "superseded": _l("Make had already answered"),
}
CALLBACK_OUTCOME_LABELS = {
    "pending": _l("being recorded"), "applied": _l("recorded"), "stale": _l("already known"),
    "fingerprint_mismatch": _l("recorded, but the content differs from what was approved"),
    "unknown_publication": _l("unknown publication"),
}


def attempt_outcome_label(outcome: str) -> str:
    return str(ATTEMPT_OUTCOME_LABELS.get(outcome, outcome))


def callback_label(status: str | None, outcome: str) -> str:
    """"published (recorded)": the status Make reported, and what the CMS made of it."""
    try:
        reported = publication_status_label(PublicationStatus(status))
    except ValueError:
        reported = status or "?"
    return f"{reported} ({CALLBACK_OUTCOME_LABELS.get(outcome, outcome)})"
