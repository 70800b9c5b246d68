"""Display names for the vocabularies, in the user's language."""

from flask_babel import lazy_gettext as _l

from app.models import ObjectStatus, Platform, PublicationStatus, Role

ROLE_LABELS = {Role.ADMIN: _l("Administrator"), Role.EDITOR: _l("Editor"), Role.APPROVER: _l("Approver")}
PLATFORM_LABELS = {
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.YOUTUBE: "YouTube",
    Platform.LINKEDIN: "LinkedIn",
    Platform.X: "X",
    Platform.TIKTOK: "TikTok",
}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def platform_label(platform: Platform) -> str:
    return PLATFORM_LABELS[platform]


OBJECT_STATUS_LABELS = {
    ObjectStatus.DRAFT: _l("Draft"),
    ObjectStatus.IN_REVIEW: _l("In review"),
    ObjectStatus.CHANGES_REQUESTED: _l("Changes requested"),
    ObjectStatus.APPROVED: _l("Approved"),
    ObjectStatus.SCHEDULED: _l("Scheduled"),
    ObjectStatus.PUBLISHING: _l("Publishing"),
    ObjectStatus.PUBLISHED: _l("Published"),
    ObjectStatus.FAILED: _l("Failed"),
}
EVENT_LABELS = {
    "object_created": _l("created the post"),
    "object_updated": _l("edited the post"),
    "object_duplicated": _l("created the post as a copy of another"),
    "publication_retried": _l("publication retried"),
    "publication_settled": _l("publication settled by hand"),
    "publish_attempt": _l("sent to Make"),
    "publication_unknown": _l("no answer from Make in time"),
    "fingerprint_mismatch": _l("published content differs from what was approved"),
    "published_now": _l("asked to publish now"),
    "object_versions_updated": _l("edited the versions per network"),
    "object_rescheduled": _l("changed the publication date"),
    "object_crop_moved": _l("moved a crop"),
    "comment_added": _l("commented"),
    "step_approved": _l("approved a step"),
    "step_approval_undone": _l("took back a step approval"),
    "approval_chain_restarted": _l("restarted the approval chain"),
    "review_link_created": _l("created a review link"),
    "review_link_opened": _l("review link opened"),
    "review_link_used": _l("decided through a review link"),
    "review_link_undone": _l("took back an approval given through a review link"),
    "review_link_revoked": _l("withdrew a review link"),
}


def status_label(status: ObjectStatus) -> str:
    return str(OBJECT_STATUS_LABELS[status])


def event_label(action: str) -> str:
    """`status:approved` reads "moved to Approved"; other actions have their own words."""
    if action.startswith("status:"):
        return str(_l("moved to %(status)s", status=status_label(ObjectStatus(action.split(":", 1)[1]))))
    return str(EVENT_LABELS.get(action, action))


PUBLICATION_STATUS_LABELS = {
    PublicationStatus.PENDING: _l("Waiting"),
    PublicationStatus.SENDING: _l("Sending"),
    PublicationStatus.SENT: _l("Sent"),
    PublicationStatus.PUBLISHED: _l("Published"),
    PublicationStatus.FAILED: _l("Failed"),
    PublicationStatus.UNKNOWN: _l("No answer"),
}


def publication_status_label(status: PublicationStatus) -> str:
    return str(PUBLICATION_STATUS_LABELS[status])


# What became of one POST to Make's webhook (app.publishing.sender), and of one callback.
ATTEMPT_OUTCOME_LABELS = {
    "sent": _l("accepted by Make"),
    "retry": _l("refused for now, will be retried"),
    "failed": _l("refused"),
    "superseded": _l("Make had already answered"),
}
CALLBACK_OUTCOME_LABELS = {
    "pending": _l("being recorded"),
    "applied": _l("recorded"),
    "stale": _l("already known"),
    "fingerprint_mismatch": _l("recorded, but the content differs from what was approved"),
    "unknown_publication": _l("unknown publication"),
    "could_not_apply": _l("could not be applied"),
}


def attempt_outcome_label(outcome: str) -> str:
    return str(ATTEMPT_OUTCOME_LABELS.get(outcome, outcome))


def callback_label(status: str | None, outcome: str) -> str:
    """ "published (recorded)": the status Make reported, and what the CMS made of it."""
    return f"{reported_status_label(status)} ({callback_outcome_label(outcome)})"


def callback_outcome_label(outcome: str) -> str:
    return str(CALLBACK_OUTCOME_LABELS.get(outcome, outcome))


def reported_status_label(status: str | None) -> str:
    """The status a Make callback reported, in words (as received when it is not one of ours)."""
    try:
        return publication_status_label(PublicationStatus(status))
    except ValueError:
        return status or "?"


# Why a recorded callback could not be applied (app.publishing.results keeps "<Exception>: ...").
APPLY_ERROR_LABELS = {
    "AttributeError": _l("Make's message does not have the expected shape"),
    "KeyError": _l("Make's message does not have the expected shape"),
    "TypeError": _l("Make's message does not have the expected shape"),
    "JSONDecodeError": _l("Make's message is not readable JSON"),
    "DataError": _l("A value in Make's message cannot be stored"),
    "IntegrityError": _l("A value in Make's message cannot be stored"),
}


def apply_error_label(last_error: str | None) -> str:
    kind = (last_error or "").split(":", 1)[0]
    return str(APPLY_ERROR_LABELS.get(kind, _l("An unexpected error stopped it from being applied")))


# Notes the system writes into a post's history, kept in English and shown in the reader's
# language (older rows hold the same words). Notes typed by people are shown as typed.
SYSTEM_NOTE_LABELS = {
    "retry": _l("publication retried"),
    "media file replaced by a new version": _l("a media file was replaced by a new version"),
    "new version found in SharePoint": _l("a new version of a media file was found in SharePoint"),
    "marked failed by hand": _l("marked as not published by hand"),
    "no callback from Make in time": _l("no answer from Make in time"),
    "approval undone": _l("approval undone"),
    "unscheduled": _l("unscheduled: nothing is sent until the post has a date again or is published now"),
}


def note_label(note: str | None) -> str:
    return str(SYSTEM_NOTE_LABELS[note]) if note in SYSTEM_NOTE_LABELS else (note or "")
