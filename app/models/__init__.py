"""SQLAlchemy models by domain. Import from here: `from app.models import User`."""

from app.models.approval_chains import (
    ApprovalProgress,
    ApprovalSettings,
    ApprovalStep,
    StepApproval,
    StepRule,
    approval_step_approvers,
)
from app.models.audit import AuditEvent
from app.models.base import (
    AccountTestStatus,
    CampaignStatus,
    Decision,
    MediaKind,
    MediaStatus,
    ObjectStatus,
    Platform,
    PublicationStatus,
    Role,
    ScenarioStatus,
    StorageBackend,
)
from app.models.campaigns import (
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectMedia,
    ObjectVariant,
    VariantMedia,
    object_targets,
)
from app.models.media import MediaAsset, Tag, media_tags
from app.models.make_checks import MakeCheck
from app.models.notifications import (
    Channel,
    Comment,
    MailState,
    Notification,
    NotificationEvent,
    NotificationPreference,
    TeamsMessage,
)
from app.models.platforms import SocialAccount
from app.models.publications import Approval, CallbackEvent, Publication
from app.models.renditions import FocalPoint, Rendition, RenditionStatus
from app.models.review_links import LinkState, ReviewLink
from app.models.snippets import HashtagGroup, TextSnippet
from app.models.storage import StorageCursor
from app.models.users import User

__all__ = [
    "AccountTestStatus",
    "AuditEvent",
    "Approval",
    "ApprovalProgress",
    "ApprovalSettings",
    "ApprovalStep",
    "StepApproval",
    "StepRule",
    "approval_step_approvers",
    "Channel",
    "Comment",
    "MailState",
    "Notification",
    "NotificationEvent",
    "NotificationPreference",
    "TeamsMessage",
    "CallbackEvent",
    "Campaign",
    "CampaignScenario",
    "CampaignStatus",
    "ContentObject",
    "ObjectVariant",
    "VariantMedia",
    "Decision",
    "FocalPoint",
    "MakeCheck",
    "MediaAsset",
    "MediaKind",
    "MediaStatus",
    "ObjectMedia",
    "ObjectStatus",
    "Platform",
    "Publication",
    "PublicationStatus",
    "Rendition",
    "RenditionStatus",
    "ReviewLink",
    "LinkState",
    "Role",
    "ScenarioStatus",
    "SocialAccount",
    "StorageBackend",
    "StorageCursor",
    "Tag",
    "TextSnippet",
    "HashtagGroup",
    "User",
    "media_tags",
    "object_targets",
]
