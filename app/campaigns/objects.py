"""Content objects of a campaign: create, edit, check against each target network, submit.

Status changes go through `reviews.service` (and so `workflow.transition`); editing what was
approved sends the object back to review through `reopen_after_change`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app import audit, network_options, networks, workflow
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    MediaAsset,
    MediaStatus,
    ObjectMedia,
    ObjectStatus as S,
    Platform,
    ScenarioStatus,
    SocialAccount,
    object_targets,
)
from app.reviews import chains, service as reviews

EDITABLE = {S.DRAFT, S.CHANGES_REQUESTED, S.IN_REVIEW, S.APPROVED, S.SCHEDULED}
SUBMITTABLE = {S.DRAFT, S.CHANGES_REQUESTED}
REOPENED_BY_EDIT = {S.APPROVED, S.SCHEDULED}  # a change sends these back to review
OFFERED = (ScenarioStatus.READY, ScenarioStatus.PROVISIONING)


class NotEditable(Exception):
    pass


class NotReady(Exception):
    """Some target network would refuse the post: the problems, per target."""

    def __init__(self, checks: list["TargetCheck"]):
        super().__init__("the post does not fit every target")
        self.checks = checks


@dataclass
class TargetCheck:
    scenario: CampaignScenario
    account: SocialAccount
    length: int
    limit: int
    unit: str
    kept: str
    overflow: str
    link_card: bool  # the network posts the link (versions.Version.posts_link)
    problems: list[networks.Problem] = field(default_factory=list)
    # What the renditions will change in the files for this network (not a reason to refuse).
    notes: list[networks.Problem] = field(default_factory=list)
    # Each file as this network gets it: its rendition and state (app/renditions/screen.py).
    renditions: list = field(default_factory=list)
    # The network's version of the post (app/versions.py): its text, link, media and options.
    version: object = None
    # A link-card network whose version has files: its scenario's photo or image post takes no link.
    files_drop_link: bool = False


def get_or_404(campaign: Campaign, object_id: int, *, lock: bool = False) -> ContentObject:
    """`lock` before a change: the row lock the publisher takes too (object, then publications),
    so a post cannot start publishing while its edit or submission is being saved."""
    obj = db.session.get(ContentObject, object_id, with_for_update=lock)
    if obj is None or obj.campaign_id != campaign.id:
        abort(404)
    return obj


def offered_scenarios(campaign: Campaign, obj: ContentObject | None = None) -> list[CampaignScenario]:
    """Targets an object can take: the ready or provisioning scenarios, plus its current ones."""
    current = target_ids(obj) if obj is not None else []
    query = (
        sa.select(CampaignScenario)
        .join(SocialAccount)
        .options(joinedload(CampaignScenario.social_account))
        .where(
            CampaignScenario.campaign_id == campaign.id,
            sa.or_(CampaignScenario.status.in_(OFFERED), CampaignScenario.id.in_(current)),
        )
        .order_by(SocialAccount.platform, SocialAccount.label, CampaignScenario.id)
    )
    return list(db.session.scalars(query))


def target_ids(obj: ContentObject) -> list[int]:
    return list(
        db.session.scalars(sa.select(object_targets.c.campaign_scenario_id).where(object_targets.c.object_id == obj.id))
    )


def media_ids(obj: ContentObject) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(ObjectMedia.media_asset_id).where(ObjectMedia.object_id == obj.id).order_by(ObjectMedia.position)
        )
    )


NOSCRIPT_CHOICES = 24


def media_choices(chosen: list[int]) -> list[MediaAsset]:
    """What a browser without JavaScript can tick on the post form: the chosen files in their
    order, then the newest ready files of the library (search and reordering need the picker)."""
    from app.media.service import assets_in_order

    first = assets_in_order(list(dict.fromkeys(chosen)))
    recent = db.session.scalars(
        sa.select(MediaAsset)
        .where(MediaAsset.status == MediaStatus.READY, MediaAsset.id.not_in(chosen or [0]))
        .order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())
        .limit(NOSCRIPT_CHOICES)
    )
    return first + list(recent)


def usable_media(ids: list[int]) -> tuple[list[int], list[str]]:
    """The ids (order kept, each once) of ready assets, and the problems with the others."""
    ids = list(dict.fromkeys(ids))
    found = {a.id: a for a in db.session.scalars(sa.select(MediaAsset).where(MediaAsset.id.in_(ids)))}
    errors = []
    for asset_id in ids:
        asset = found.get(asset_id)
        if asset is None:
            errors.append(str(_l("A chosen file no longer exists.")))
        elif asset.status is not MediaStatus.READY:
            errors.append(str(_l("“%(title)s” is not ready yet.", title=asset.title)))
    return [i for i in ids if i in found and found[i].status is MediaStatus.READY], errors


def create_object(
    campaign: Campaign,
    *,
    title: str,
    message: str,
    link: str | None,
    media: list[int],
    targets: list[int],
    scheduled_at: datetime | None,
    actor,
) -> ContentObject:
    obj = ContentObject(
        campaign_id=campaign.id,
        title=title.strip(),
        message=message or "",
        link=(link or "").strip() or None,
        scheduled_at=scheduled_at,
        status=S.DRAFT,
        author_id=getattr(actor, "id", None),
    )
    db.session.add(obj)
    db.session.flush()
    _set_media(obj, media)
    _set_targets(obj, targets)
    audit.record("object_created", obj, actor=actor, data={"media": media, "targets": targets})
    return obj


def update_object(
    obj: ContentObject,
    *,
    title: str,
    message: str,
    link: str | None,
    media: list[int],
    targets: list[int],
    scheduled_at: datetime | None,
    actor,
) -> bool:
    """Save the edit; an approved or scheduled post goes back to review. True if anything changed."""
    if obj.status not in EDITABLE:
        raise NotEditable(obj.status)
    values = {
        "title": title.strip(),
        "message": message or "",
        "link": (link or "").strip() or None,
        "scheduled_at": scheduled_at,
    }
    changed = {key: str(value) for key, value in values.items() if getattr(obj, key) != value}
    if media_ids(obj) != media:
        changed["media"] = media
        _set_media(obj, media)
    if sorted(target_ids(obj)) != sorted(targets):
        changed["targets"] = sorted(targets)
        _set_targets(obj, targets)
    if not changed:
        return False
    for key, value in values.items():
        setattr(obj, key, value)
    audit.record("object_updated", obj, actor=actor, data=changed)
    if obj.status in REOPENED_BY_EDIT:
        db.session.flush()
        reviews.reopen_after_change([obj.id], by=actor, reason=str(_l("Edited after approval")))
    elif obj.status is S.IN_REVIEW:
        db.session.flush()
        chains.after_edit(obj, by=actor)  # earlier steps approved other content (docs/approval-chains.md)
    return True


def _set_media(obj: ContentObject, ids: list[int]) -> None:
    db.session.execute(sa.delete(ObjectMedia).where(ObjectMedia.object_id == obj.id))
    if ids:
        db.session.execute(
            sa.insert(ObjectMedia),
            [{"object_id": obj.id, "media_asset_id": asset_id, "position": n} for n, asset_id in enumerate(ids)],
        )


def _set_targets(obj: ContentObject, ids: list[int]) -> None:
    db.session.execute(sa.delete(object_targets).where(object_targets.c.object_id == obj.id))
    if ids:
        db.session.execute(object_targets.insert(), [{"object_id": obj.id, "campaign_scenario_id": s} for s in ids])


def facts(asset: MediaAsset) -> networks.MediaFacts:
    return networks.MediaFacts(
        kind=asset.kind.value,
        mime=asset.mime,
        size=asset.size_bytes,
        width=asset.width,
        height=asset.height,
        duration_s=float(asset.duration_s) if asset.duration_s is not None else None,
        fps=float(asset.frame_rate) if asset.frame_rate is not None else None,
    )


def media_of(obj: ContentObject) -> list[MediaAsset]:
    return reviews.media_by_object([obj.id])[obj.id]


def checks(obj: ContentObject, media: list[MediaAsset] | None = None) -> list[TargetCheck]:
    """Each target as its network will take the post: its network's version (app/versions.py)
    counted and cut its way, and the problems of that version's text and files."""
    from app import versions

    media = media_of(obj) if media is None else media
    rows = db.session.execute(
        sa.select(CampaignScenario, SocialAccount)
        .join(object_targets, object_targets.c.campaign_scenario_id == CampaignScenario.id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(object_targets.c.object_id == obj.id)
        .order_by(SocialAccount.platform, SocialAccount.label)
    ).all()
    own = versions.versions(obj, media, [p for p in Platform if p in {a.platform for _, a in rows}])
    return [check_target(scenario, account, own[account.platform]) for scenario, account in rows]


def check_target(scenario: CampaignScenario, account: SocialAccount, found) -> TargetCheck:
    """One target as its network takes `found` (a `versions.Version`, saved or still in the
    form: the composer's live preview checks what the editor is typing the same way)."""
    from app.media.service import alt_text_problems  # the admin's rule, whatever the network
    from app.renditions import screen

    rules = networks.RULES[account.platform]
    text, media_facts = found.message, [facts(asset) for asset in found.media]
    kept, overflow = cut(text, rules.counting, rules.text_max)
    unit = _l("bytes") if rules.counting == "utf8_bytes" else _l("characters")
    check = TargetCheck(
        scenario,
        account,
        networks.text_length(text, rules.counting),
        rules.text_max,
        str(unit),
        kept,
        overflow,
        found.posts_link,
        networks.check(account.platform, text, media_facts),
        networks.adaptations(account.platform, media_facts),
    )
    check.version = found
    check.files_drop_link = found.files_drop_link
    check.problems = check.problems + alt_text_problems(found.media)
    # The network's own settings (app/network_options.py): a YouTube video without a title…
    check.problems += network_options.problems(account.platform, found.options, found)
    check.renditions = screen.for_target(found.media, account.platform, found.crops)
    return check


def cut(text: str, counting: str, limit: int) -> tuple[str, str]:
    """The longest prefix within `limit` under the network's counting, and what is left over."""
    if networks.text_length(text, counting) <= limit:
        return text, ""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if networks.text_length(text[:mid], counting) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo], text[lo:]


def submit(obj: ContentObject, *, actor) -> None:
    """Send the post to review, unless a target network would refuse it even adapted. The
    renditions it needs are queued now, so they are ready by the time it is approved."""
    from app.renditions import service as renditions

    if obj.status not in SUBMITTABLE:
        raise workflow.InvalidTransition(obj.status, S.IN_REVIEW, "not a draft")
    media = media_of(obj)
    found = checks(obj, media)
    if not found or any(check.problems for check in found):
        raise NotReady(found)
    for check in found:
        for asset in check.version.media:  # around the network's own crop, if it has one
            renditions.request(asset, check.account.platform, renditions.crop_for(asset, check.version.crops))
    reviews.submit(obj, by=actor)
