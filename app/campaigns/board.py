"""The campaign board (objects as columns by status), in a fixed number of queries
whatever the number of objects: one for the objects with their authors, one for their targets,
one for their media (the count and the first medium, for the card's thumbnail), one for the
newest delivery of each target that has news for the card (failed, or unknown: sent with no
callback in time, never re-sent on its own; or published, with the live post's address)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased

from app import search
from app.comments import service as conversation
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    MediaAsset,
    MediaKind,
    ObjectMedia,
    ObjectStatus as S,
    Platform,
    Publication,
    PublicationStatus,
    SocialAccount,
    User,
    object_targets,
)

COLUMNS = (S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.PUBLISHING, S.PUBLISHED, S.FAILED)


@dataclass
class Filters:
    network: Platform | None = None
    author: int | None = None
    text: str = ""

    @classmethod
    def from_args(cls, args) -> "Filters":
        network = args.get("network", "")
        return cls(
            network=Platform(network) if network in {p.value for p in Platform} else None,
            author=args.get("author", type=int),
            text=(args.get("q") or "").strip()[:200],
        )

    def query_args(self) -> dict:
        return {
            key: value
            for key, value in (
                ("network", self.network and self.network.value),
                ("author", self.author),
                ("q", self.text),
            )
            if value
        }


@dataclass
class Thumb:
    """The first medium of a post, as its card shows it."""

    url: str | None  # the thumbnail's address, None while there is none (a PDF, processing)
    kind: MediaKind
    title: str


@dataclass
class LiveLink:
    platform: Platform
    label: str  # the account's label
    url: str | None  # None when the address given is not safe to show as a link


@dataclass
class Card:
    obj: sa.Row  # id, campaign_id, title, status, scheduled_at
    author: str | None
    url: str
    platforms: list[Platform] = field(default_factory=list)
    media_count: int = 0
    thumb: Thumb | None = None
    # Targets whose latest delivery failed or whose outcome is unknown, for the card's flag.
    problems: list[tuple[Platform, PublicationStatus]] = field(default_factory=list)
    live: list[LiveLink] = field(default_factory=list)
    comments: int = 0  # messages in the post's conversation


def _objects(campaign: Campaign, filters: Filters):
    # Columns, not entities: the cards need five fields, and 500 ORM objects cost more than the SQL.
    query = (
        sa.select(
            ContentObject.id,
            ContentObject.campaign_id,
            ContentObject.title,
            ContentObject.status,
            ContentObject.scheduled_at,
            User.name.label("author"),
            conversation.count_of(ContentObject.id).label("comments"),
        )
        .outerjoin(User, User.id == ContentObject.author_id)
        .where(ContentObject.campaign_id == campaign.id)
    )
    if filters.network:
        query = query.where(targets_network(filters.network))
    if filters.author:
        query = query.where(ContentObject.author_id == filters.author)
    if filters.text:
        # Through the search service: typo tolerant, accent-insensitive, whichever engine answers.
        query = query.where(
            ContentObject.id.in_(search.object_ids(filters.text, search.ObjectFilters(campaign_ids=(campaign.id,))))
        )
    return query


def targets_network(network: Platform):
    """Whether a post has a target on `network` (the board's and the calendar's filter)."""
    return sa.exists(
        sa.select(1)
        .select_from(object_targets)
        .join(CampaignScenario, CampaignScenario.id == object_targets.c.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(object_targets.c.object_id == ContentObject.id, SocialAccount.platform == network)
    )


def _cards(query) -> list[Card]:
    rows = db.session.execute(query).all()
    # The same filtered query as a subquery, rather than hundreds of bound ids.
    ids = query.with_only_columns(ContentObject.id).order_by(None).scalar_subquery()
    platforms: dict[int, list[Platform]] = {}
    for object_id, platform in db.session.execute(
        sa.select(object_targets.c.object_id, SocialAccount.platform)
        .distinct()
        .join(CampaignScenario, CampaignScenario.id == object_targets.c.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .where(object_targets.c.object_id.in_(ids))
        .order_by(object_targets.c.object_id, SocialAccount.platform)
    ):
        platforms.setdefault(object_id, []).append(platform)
    counts, thumbs = {}, {}
    thumb_base = url_for("media.thumb", asset_id=0)[: -len("/0/thumb")]
    for object_id, count, asset_id, version, kind, title, thumb_path in db.session.execute(_first_media(ids)):
        counts[object_id] = count
        url = f"{thumb_base}/{asset_id}/thumb?v={version}" if thumb_path else None
        thumbs[object_id] = Thumb(url, kind, title)
    problems: dict[int, list[tuple[Platform, PublicationStatus]]] = {}
    live: dict[int, list[LiveLink]] = {}
    for object_id, platform, label, status, publication in db.session.execute(latest_deliveries(ids)):
        if status is PublicationStatus.PUBLISHED:
            live.setdefault(object_id, []).append(LiveLink(platform, label, publication.live_url))
        else:
            problems.setdefault(object_id, []).append((platform, status))
    # One url_for, then the ids: the same address for each card at a fraction of the cost.
    base = url_for("campaigns.show_object", campaign_id=0, object_id=0)[: -len("/0/objects/0")]
    return [
        Card(
            row,
            row.author,
            f"{base}/{row.campaign_id}/objects/{row.id}",
            platforms.get(row.id, []),
            counts.get(row.id, 0),
            thumbs.get(row.id),
            problems.get(row.id, []),
            live.get(row.id, []),
            row.comments,
        )
        for row in rows
    ]


def _first_media(ids):
    """(object id, media count, first medium's id, version, kind, title, thumbnail) per object:
    the count is a window over all of the object's media, DISTINCT ON keeps the first by position."""
    count = sa.func.count().over(partition_by=ObjectMedia.object_id)
    return (
        sa.select(
            ObjectMedia.object_id,
            count,
            MediaAsset.id,
            MediaAsset.version,
            MediaAsset.kind,
            MediaAsset.title,
            MediaAsset.thumb_path,
        )
        .join(MediaAsset, MediaAsset.id == ObjectMedia.media_asset_id)
        .where(ObjectMedia.object_id.in_(ids))
        .ext(distinct_on(ObjectMedia.object_id))
        .order_by(ObjectMedia.object_id, ObjectMedia.position)
    )


def latest_deliveries(ids):
    """(object id, platform, account label, status, publication) of each target whose newest
    generation failed, is unknown, or is published (its live link).

    Only objects that are publishing, published or failed can have one; older generations are
    history. `ids` is a list or a subquery of object ids."""
    newer = aliased(Publication)
    return (
        sa.select(Publication.object_id, SocialAccount.platform, SocialAccount.label, Publication.status, Publication)
        .join(CampaignScenario, CampaignScenario.id == Publication.campaign_scenario_id)
        .join(SocialAccount, SocialAccount.id == CampaignScenario.social_account_id)
        .join(ContentObject, ContentObject.id == Publication.object_id)
        .where(
            Publication.object_id.in_(ids),
            ContentObject.status.in_((S.PUBLISHING, S.PUBLISHED, S.FAILED)),
            Publication.status.in_((PublicationStatus.FAILED, PublicationStatus.UNKNOWN, PublicationStatus.PUBLISHED)),
            ~sa.exists().where(
                newer.object_id == Publication.object_id,
                newer.campaign_scenario_id == Publication.campaign_scenario_id,
                newer.generation > Publication.generation,
            ),
        )
        .order_by(Publication.object_id, SocialAccount.platform, SocialAccount.label)
    )


def live_links(object_id: int) -> list[LiveLink]:
    """The published targets of one post with their live addresses (the post page)."""
    return [
        LiveLink(platform, label, publication.live_url)
        for _, platform, label, status, publication in db.session.execute(latest_deliveries([object_id]))
        if status is PublicationStatus.PUBLISHED
    ]


def board(campaign: Campaign, filters: Filters) -> dict[S, list[Card]]:
    query = _objects(campaign, filters).order_by(
        sa.func.coalesce(ContentObject.scheduled_at, ContentObject.updated_at), ContentObject.id
    )
    columns: dict[S, list[Card]] = {status: [] for status in COLUMNS}
    for card in _cards(query):
        columns[card.obj.status].append(card)
    return columns


def authors(campaign: Campaign) -> list[tuple[int, str]]:
    return db.session.execute(
        sa.select(User.id, User.name)
        .where(User.id.in_(sa.select(ContentObject.author_id).where(ContentObject.campaign_id == campaign.id)))
        .order_by(User.name)
    ).all()
