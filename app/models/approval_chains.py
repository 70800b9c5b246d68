"""Approval chains (docs/approval-chains.md): a campaign may require ordered steps, each with
its approvers (named users, a role, or both) and a rule (any one of them, or all of them).

`ApprovalStep` and its approvers are the campaign's settings, with `ApprovalSettings` (whether
an approval expires at the scheduled moment). `StepApproval` is one approver's yes on one step
of one post, for the content it saw (its fingerprint); `ApprovalProgress` is where a post in
review stands (the step it waits for, kept by app/reviews/chains.py so the queue can filter in
SQL) and, once approved, until when that approval is valid.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Role, StrEnum, enum_column, utcnow
from app.models.users import User


class StepRule(StrEnum):
    ANY = "any"  # one approval of one of its approvers completes the step
    ALL = "all"  # every one of its approvers must approve


approval_step_approvers = sa.Table(
    "approval_step_approvers",
    db.metadata,
    sa.Column("step_id", sa.ForeignKey("approval_steps.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ApprovalSettings(db.Model):
    """A campaign's approval settings beyond its steps (one row, or none: the defaults)."""

    __tablename__ = "approval_settings"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    # Hootsuite's rule: an approval is valid until the moment the post was scheduled for.
    expires_at_schedule: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class ApprovalStep(db.Model):
    __tablename__ = "approval_steps"
    __table_args__ = (sa.Index("ix_approval_steps_campaign_position", "campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(120))
    rule: Mapped[StepRule] = mapped_column(enum_column(StepRule, "step_rule"), default=StepRule.ANY)
    # Everyone holding this role is an approver of the step (besides the named users).
    role: Mapped[Role | None] = mapped_column(enum_column(Role, "step_role"))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )

    users: Mapped[list[User]] = relationship(secondary=approval_step_approvers, lazy="selectin", order_by=User.name)


class StepApproval(db.Model):
    """One approval of one step: by a user, or through a review link made for that step."""

    __tablename__ = "step_approvals"
    __table_args__ = (sa.UniqueConstraint("object_id", "step_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int] = mapped_column(sa.ForeignKey("approval_steps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    review_link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_links.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(120))
    fingerprint: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )


class ApprovalProgress(db.Model):
    __tablename__ = "approval_progress"

    object_id: Mapped[int] = mapped_column(sa.ForeignKey("content_objects.id", ondelete="CASCADE"), primary_key=True)
    # The step the post waits for while in review (None: no chain, or every step done).
    step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("approval_steps.id", ondelete="SET NULL"), index=True)
    # Once approved in a campaign whose approvals expire: the moment it was scheduled for.
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
