from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import CampaignStatus, ObjectStatus, Platform, ScenarioStatus, Timestamps, enum_column

if TYPE_CHECKING:  # the relationship below names it; SQLAlchemy resolves it by name
    from app.models.platforms import SocialAccount


class Campaign(Timestamps, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.ACTIVE
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # A Teams Workflows webhook: review, approval and publication cards go to that channel.
    teams_webhook_url: Mapped[str | None] = mapped_column(sa.Text)

    scenarios: Mapped[list["CampaignScenario"]] = relationship(back_populates="campaign")


class CampaignScenario(Timestamps, db.Model):
    """One Make scenario (and its webhook) per campaign and target social account."""

    __tablename__ = "campaign_scenarios"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "social_account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    social_account_id: Mapped[int] = mapped_column(sa.ForeignKey("social_accounts.id", ondelete="RESTRICT"), index=True)
    make_scenario_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    make_hook_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    make_hook_udid: Mapped[str | None] = mapped_column(sa.String(64))
    # The account's template scenario when the scenario was cloned from it (docs/external-apis.md §1.5b).
    make_template_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    webhook_url: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[ScenarioStatus] = mapped_column(
        enum_column(ScenarioStatus, "scenario_status"), default=ScenarioStatus.PROVISIONING
    )
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # The last signed `dry_run_ok` callback: the hook, Data Store, mapping and HMAC all worked.
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    campaign: Mapped[Campaign] = relationship(back_populates="scenarios")
    social_account: Mapped["SocialAccount"] = relationship()

    @property
    def settled(self) -> bool:
        """Nothing left for a worker to do: the page stops polling."""
        return self.status is not ScenarioStatus.PROVISIONING

    @property
    def retryable(self) -> bool:
        return self.status is ScenarioStatus.FAILED and self.campaign.status is CampaignStatus.ACTIVE


object_targets = sa.Table(
    "object_targets",
    db.metadata,
    sa.Column("object_id", sa.ForeignKey("content_objects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "campaign_scenario_id", sa.ForeignKey("campaign_scenarios.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class ContentObject(Timestamps, db.Model):
    """A post: text, link, ordered media, target accounts, optional schedule."""

    __tablename__ = "content_objects"
    __table_args__ = (sa.Index("ix_content_objects_campaign_status", "campaign_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    link: Mapped[str | None] = mapped_column(sa.Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    status: Mapped[ObjectStatus] = mapped_column(enum_column(ObjectStatus, "object_status"), default=ObjectStatus.DRAFT)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    campaign: Mapped[Campaign] = relationship()


class ObjectMedia(db.Model):
    """The ordered media of a content object."""

    __tablename__ = "object_media"
    __table_args__ = (sa.CheckConstraint("position >= 0", name="position_nonnegative"),)

    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"), primary_key=True)
    media_asset_id: Mapped[int] = mapped_column(
        sa.ForeignKey("media_assets.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int]


class ObjectVariant(Timestamps, db.Model):
    """A post's version for one network (revision 0013; docs/architecture.md §3.10): each field
    left NULL follows the base post, so an edit of the base flows into every version that does
    not override it. An empty string is an override too ("no link on X"). `media_overridden`
    says the version has its own selection and order (`VariantMedia`, possibly empty).
    `options` holds the network's options (app/network_options.py); `crops` the
    crop the editor moved for this network, per asset: {"<asset id>": {"x": 0.4, "y": 0.5}}."""

    __tablename__ = "object_variants"

    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform, "platform"), primary_key=True)
    message: Mapped[str | None] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.Text)
    media_overridden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    crops: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")


class VariantMedia(db.Model):
    """The ordered media of a version that overrides the base selection."""

    __tablename__ = "variant_media"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["object_id", "platform"], ["object_variants.object_id", "object_variants.platform"], ondelete="CASCADE"
        ),
        sa.CheckConstraint("position >= 0", name="position_nonnegative"),
    )

    object_id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform, "platform"), primary_key=True)
    media_asset_id: Mapped[int] = mapped_column(
        sa.ForeignKey("media_assets.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int]
