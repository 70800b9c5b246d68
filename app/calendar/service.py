"""The calendar of every campaign: posts by day (Paris time), a month or a week at a time, and
moving a post to another moment.

A move changes `scheduled_at` and nothing else of what was approved. Whether the approval
survives it is a policy (`CALENDAR_RESCHEDULE_KEEPS_APPROVAL`, docs in README "Calendar"): kept,
the post's unsent publications are written again for the new moment; not kept (the default),
the post goes back to review through `reviews.reopen_after_change` (workflow.transition, audited)
like any other change to an approved post."""

from __future__ import annotations

import calendar as cal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import get_locale, lazy_gettext as _l
from babel.dates import get_day_names

from app import audit, workflow
from app.campaigns import board as boards
from app.campaigns.object_forms import local_zone
from app.extensions import db
from app.models import Approval, Campaign, CampaignStatus, ContentObject, Decision, ObjectStatus as S, Platform, Role
from app.models.base import utcnow
from app.publishing import outbox
from app.reviews import service as reviews

VIEWS = ("month", "week")
# What can still move: nothing has been handed to a network yet.
MOVABLE = {S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED}
APPROVED = {S.APPROVED, S.SCHEDULED}
DEFAULT_TIME = time(9, 0)  # a post from the "to schedule" list dropped on a day
UNSCHEDULED_LIMIT = 100


class NotMovable(Exception):
    """Why a post cannot move, in words for the user; `final` when no other moment would do."""

    def __init__(self, message: str, *, final: bool):
        super().__init__(message)
        self.final = final


@dataclass
class Filters:
    campaign: int | None = None
    network: Platform | None = None
    view: str = "month"
    day: date | None = None  # any day of the month or week shown

    @classmethod
    def from_args(cls, args, today: date) -> "Filters":
        network = args.get("network", "")
        try:
            day = date.fromisoformat(args.get("day", ""))
        except ValueError:
            day = today
        return cls(
            campaign=args.get("campaign", type=int),
            network=Platform(network) if network in {p.value for p in Platform} else None,
            view=args.get("view") if args.get("view") in VIEWS else "month",
            day=day,
        )

    def query_args(self, **changes) -> dict:
        values = {
            "campaign": self.campaign,
            "network": self.network and self.network.value,
            "view": self.view,
            "day": self.day and self.day.isoformat(),
            **changes,
        }
        return {key: value for key, value in values.items() if value}


@dataclass
class Entry:
    id: int
    campaign_id: int
    campaign: str
    title: str
    status: S
    scheduled_at: datetime | None  # in the local zone
    movable: bool
    url: str  # the post's page for this reader


@dataclass
class Period:
    view: str
    first: date  # first day shown
    days: list[date]  # every day shown, whole weeks
    anchor: date  # the month's first day, or the week's first day
    entries: dict[date, list[Entry]]
    weekdays: list[tuple[str, str]]  # (abbreviated, full) names, in the locale's week order

    @property
    def weeks(self) -> list[list[date]]:
        return [self.days[n : n + 7] for n in range(0, len(self.days), 7)]

    @property
    def previous(self) -> date:
        if self.view == "week":
            return self.anchor - timedelta(days=7)
        return (self.anchor - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        if self.view == "week":
            return self.anchor + timedelta(days=7)
        return (self.anchor + timedelta(days=32)).replace(day=1)

    def outside(self, day: date) -> bool:
        return self.view == "month" and day.month != self.anchor.month


def today() -> date:
    return datetime.now(local_zone()).date()


def first_weekday() -> int:
    """0 = Monday (French, British), 6 = Sunday (American English): the locale's own week."""
    return get_locale().first_week_day


def weekday_names() -> list[tuple[str, str]]:
    start, locale = first_weekday(), get_locale()
    short, wide = get_day_names("abbreviated", locale=locale), get_day_names("wide", locale=locale)
    return [(short[(start + n) % 7], wide[(start + n) % 7]) for n in range(7)]


def period(filters: Filters, user) -> Period:
    day, start = filters.day or today(), first_weekday()
    if filters.view == "week":
        anchor = day - timedelta(days=(day.weekday() - start) % 7)
        days = [anchor + timedelta(days=n) for n in range(7)]
    else:
        anchor = day.replace(day=1)
        days = [
            d for week in cal.Calendar(firstweekday=start).monthdatescalendar(anchor.year, anchor.month) for d in week
        ]
    zone = local_zone()
    begin = datetime.combine(days[0], time(), tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(days[-1] + timedelta(days=1), time(), tzinfo=zone).astimezone(timezone.utc)
    query = (
        _posts(filters, user)
        .where(ContentObject.scheduled_at >= begin, ContentObject.scheduled_at < end)
        .order_by(ContentObject.scheduled_at, ContentObject.id)
    )
    entries: dict[date, list[Entry]] = {}
    for entry in _entries(query, user):
        entries.setdefault(entry.scheduled_at.date(), []).append(entry)
    return Period(filters.view, days[0], days, anchor, entries, weekday_names())


def unscheduled(filters: Filters, user) -> list[Entry]:
    """Approved posts with no date yet: the side list to drag from ("to schedule")."""
    query = (
        _posts(filters, user)
        .where(ContentObject.scheduled_at.is_(None), ContentObject.status == S.APPROVED)
        .order_by(ContentObject.updated_at, ContentObject.id)
        .limit(UNSCHEDULED_LIMIT)
    )
    return _entries(query, user)


def _posts(filters: Filters, user):
    query = sa.select(
        ContentObject.id,
        ContentObject.campaign_id,
        Campaign.name,
        ContentObject.title,
        ContentObject.status,
        ContentObject.scheduled_at,
        Campaign.status.label("campaign_status"),
    ).join(Campaign, Campaign.id == ContentObject.campaign_id)
    if not user.has_role(Role.EDITOR):
        # Approvers see what was submitted to them, never a draft (reviews.may_read).
        query = query.where(ContentObject.status != S.DRAFT)
    if filters.campaign:
        query = query.where(ContentObject.campaign_id == filters.campaign)
    if filters.network:
        query = query.where(boards.targets_network(filters.network))
    return query


def _entries(query, user) -> list[Entry]:
    editor, zone = user.has_role(Role.EDITOR), local_zone()
    # Editors open the post in its campaign; approvers its review history (what they may read).
    page = (
        url_for("campaigns.show_object", campaign_id=0, object_id=0)[: -len("/0/objects/0")] + "/{c}/objects/{o}"
        if editor
        else url_for("reviews.history", object_id=0)[: -len("/0/history")] + "/{o}/history"
    )
    return [
        Entry(
            row.id,
            row.campaign_id,
            row.name,
            row.title,
            row.status,
            row.scheduled_at.astimezone(zone) if row.scheduled_at else None,
            editor and row.status in MOVABLE and row.campaign_status is CampaignStatus.ACTIVE,
            page.format(c=row.campaign_id, o=row.id),
        )
        for row in db.session.execute(query)
    ]


def campaigns() -> list[tuple[int, str]]:
    return db.session.execute(
        sa.select(Campaign.id, Campaign.name).order_by(Campaign.status, Campaign.name, Campaign.id)
    ).all()


def get_or_404(object_id: int, user, *, lock: bool = False) -> ContentObject:
    return reviews.get_readable(object_id, user, lock=lock)


def keeps_approval() -> bool:
    return bool(current_app.config["CALENDAR_RESCHEDULE_KEEPS_APPROVAL"])


def consequence(obj: ContentObject) -> str:
    """What a move does to the post beyond its date: "review" (back to review), "kept" (the
    approval stays and the publications follow), or "none" (not approved yet)."""
    if obj.status not in APPROVED:
        return "none"
    return "kept" if keeps_approval() else "review"


def refusal(obj: ContentObject) -> str | None:
    """Why `obj` cannot move at all, or None."""
    if obj.status not in MOVABLE:
        return str(_l("This post is already being published or was published: it cannot move."))
    if obj.campaign.status is not CampaignStatus.ACTIVE:
        return str(_l("This post belongs to an archived campaign: it cannot move."))
    return None


def check_move(obj: ContentObject, moment: datetime) -> None:
    if reason := refusal(obj):
        raise NotMovable(reason, final=True)
    if moment <= utcnow():
        raise NotMovable(str(_l("Choose a moment in the future.")), final=False)


def move(obj: ContentObject, moment: datetime, *, actor) -> str:
    """Schedule `obj` (locked by the caller) at `moment` (UTC); returns its `consequence`."""
    check_move(obj, moment)
    outcome = consequence(obj)
    if outcome == "kept":
        from app.reviews import expiry

        if not expiry.allows_move(obj, moment):  # later than an expiring approval holds
            outcome = "review"
    previous = obj.scheduled_at
    if previous == moment:
        return outcome
    obj.scheduled_at = moment
    audit.record(
        "object_rescheduled",
        obj,
        actor=actor,
        data={"from": previous and previous.isoformat(), "to": moment.isoformat(), "approval": outcome},
    )
    if outcome == "kept":
        # Written again rather than updated: a row the relay already handed to a worker for the
        # old moment is then gone when the worker comes to claim it (sender.claim), and the new
        # rows carry the fingerprint that was approved.
        fingerprint = db.session.scalar(
            sa.select(Approval.fingerprint)
            .where(Approval.object_id == obj.id, Approval.decision == Decision.APPROVED)
            .order_by(Approval.id.desc())
            .limit(1)
        ) or outbox.fingerprint(obj)
        outbox.withdraw_pending(obj)
        outbox.add_publications(obj, fingerprint, due_at=moment)
        if obj.status is S.APPROVED:
            workflow.transition(obj, S.SCHEDULED, data={"scheduled_at": moment.isoformat()})
    elif outcome == "review":
        db.session.flush()
        reviews.reopen_after_change([obj.id], by=actor, reason=str(_l("Moved on the calendar")))
    return outcome
