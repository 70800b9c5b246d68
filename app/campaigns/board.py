"""The campaign board (objects as columns by status) and calendar, in a fixed number of queries
whatever the number of objects: one for the objects with their authors, one for their targets,
one for their media counts, one for the deliveries that need someone (failed, or unknown: sent
with no callback in time, never re-sent on its own)."""
from __future__ import annotations

import calendar as cal
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import aliased

from app.campaigns.object_forms import local_zone
from app import search
from app.extensions import db
from app.models import (Campaign, CampaignScenario, ContentObject, ObjectMedia, ObjectStatus as S,
                        Platform, Publication, PublicationStatus, SocialAccount, User, object_targets)

COLUMNS = (S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.PUBLISHING,
           S.PUBLISHED, S.FAILED)


@dataclass
class Filters:
    network: Platform | None = None
    author: int | None = None
    text: str = ""

    @classmethod
    def from_args(cls, args) -> "Filters":
        network = args.get("network", "")
        return cls(network=Platform(network) if network in {p.value for p in Platform} else None,
                   author=args.get("author", type=int), text=(args.get("q") or "").strip()[:200])

    def query_args(self) -> dict:
        return {key: value for key, value in (("network", self.network and self.network.value),
                                              ("author", self.author), ("q", self.text)) if value}


@dataclass
class Card:
    obj: sa.Row          # id, campaign_id, title, status, scheduled_at
    author: str | None
    url: str
    platforms: list[Platform] = field(default_factory=list)
    media_count: int = 0
    # Targets whose latest delivery failed or whose outcome is unknown, for the card's flag.
    problems: list[tuple[Platform, PublicationStatus]] = field(default_factory=list)


def _objects(campaign: Campaign, filters: Filters):
    # Columns, not entities: the cards need five fields, and 500 ORM objects cost more than the SQL.
    query = (sa.select(ContentObject.id, ContentObject.campaign_id, ContentObject.title, ContentObject.status,
                       ContentObject.scheduled_at, User.name.label("author"))
             .outerjoin(User, User.id == ContentObject.author_id)
             .where(ContentObject.campaign_id == campaign.id))
    if filters.network:
        query = query.where(sa.exists(
            sa.select(1).select_from(object_targets)
            .join(CampaignScenario, CampaignScenario.id == object_targets.c.campaign_scenario_id)
            .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
            .where(object_targets.c.object_id == ContentObject.id, SocialAccount.platform == filters.network)))
    if filters.author:
        query = query.where(ContentObject.author_id == filters.author)
    if filters.text:
        # Through the search service: typo tolerant, accent-insensitive, whichever engine answers.
        query = query.where(ContentObject.id.in_(
            search.object_ids(filters.text, search.ObjectFilters(campaign_ids=(campaign.id,)))))
    return query


def _cards(query) -> list[Card]:
    rows = db.session.execute(query).all()
    # The same filtered query as a subquery, rather than hundreds of bound ids.
    ids = query.with_only_columns(ContentObject.id).order_by(None).scalar_subquery()
    platforms: dict[int, list[Platform]] = {}
    for object_id, platform in db.session.execute(
            sa.select(object_targets.c.object_id, SocialAccount.platform).distinct()
            .join(CampaignScenario, CampaignScenario.id == object_targets.c.campaign_scenario_id)
            .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
            .where(object_targets.c.object_id.in_(ids))
            .order_by(object_targets.c.object_id, SocialAccount.platform)):
        platforms.setdefault(object_id, []).append(platform)
    counts = dict(db.session.execute(
        sa.select(ObjectMedia.object_id, sa.func.count()).where(ObjectMedia.object_id.in_(ids))
        .group_by(ObjectMedia.object_id)).all())
    problems: dict[int, list[tuple[Platform, PublicationStatus]]] = {}
    for object_id, platform, status in db.session.execute(_problem_deliveries(ids)):
        problems.setdefault(object_id, []).append((platform, status))
    # One url_for, then the ids: the same address for each card at a fraction of the cost.
    base = url_for("campaigns.show_object", campaign_id=0, object_id=0)[:-len("/0/objects/0")]
    return [Card(row, row.author, f"{base}/{row.campaign_id}/objects/{row.id}", platforms.get(row.id, []),
                 counts.get(row.id, 0), problems.get(row.id, [])) for row in rows]


def _problem_deliveries(ids):
    """(object id, platform, status) of each target whose newest generation failed or is unknown.

    Only objects that are publishing or failed can have one; older generations are history."""
    newer = aliased(Publication)
    return (sa.select(Publication.object_id, SocialAccount.platform, Publication.status)
            .join(CampaignScenario, CampaignScenario.id == Publication.campaign_scenario_id)
            .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
            .join(ContentObject, ContentObject.id == Publication.object_id)
            .where(Publication.object_id.in_(ids),
                   ContentObject.status.in_((S.PUBLISHING, S.FAILED)),
                   Publication.status.in_((PublicationStatus.FAILED, PublicationStatus.UNKNOWN)),
                   ~sa.exists().where(newer.object_id == Publication.object_id,
                                      newer.campaign_scenario_id == Publication.campaign_scenario_id,
                                      newer.generation > Publication.generation))
            .order_by(Publication.object_id, SocialAccount.platform))


def board(campaign: Campaign, filters: Filters) -> dict[S, list[Card]]:
    query = _objects(campaign, filters).order_by(
        sa.func.coalesce(ContentObject.scheduled_at, ContentObject.updated_at), ContentObject.id)
    columns: dict[S, list[Card]] = {status: [] for status in COLUMNS}
    for card in _cards(query):
        columns[card.obj.status].append(card)
    return columns


def authors(campaign: Campaign) -> list[tuple[int, str]]:
    return db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(
            sa.select(ContentObject.author_id).where(ContentObject.campaign_id == campaign.id)))
        .order_by(User.name)).all()


@dataclass
class Month:
    first: date
    weeks: list[list[date | None]]
    days: dict[date, list[Card]]

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def month(campaign: Campaign, first: date, filters: Filters) -> Month:
    """Scheduled objects of the month, by local day (Monday-first weeks)."""
    zone = local_zone()
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(first.year + (first.month == 12), first.month % 12 + 1, 1, tzinfo=zone)
    query = (_objects(campaign, filters)
             .where(ContentObject.scheduled_at >= start.astimezone(timezone.utc),
                    ContentObject.scheduled_at < end.astimezone(timezone.utc))
             .order_by(ContentObject.scheduled_at, ContentObject.id))
    days: dict[date, list[Card]] = {}
    for card in _cards(query):
        days.setdefault(card.obj.scheduled_at.astimezone(zone).date(), []).append(card)
    weeks = [[d if d.month == first.month else None for d in week]
             for week in cal.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)]
    return Month(first, weeks, days)
