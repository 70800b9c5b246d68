"""Approval chains (issue 13, point 3; docs/approval-chains.md): ordered steps per campaign with
their approvers and rule, each post's step approvals and progress, the campaign's expiry
setting, and the step a review link approves.

Revision ID: 0014_approval_chains
Revises: 0013_object_variants
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

revision = "0014_approval_chains"
down_revision = "0013_object_variants"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "approval_settings",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at_schedule", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "approval_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("rule", sa.Enum("any", "all", name="step_rule", native_enum=False, create_constraint=True,
                                  length=32), nullable=False),
        sa.Column("role", sa.Enum("admin", "editor", "approver", name="step_role", native_enum=False,
                                  create_constraint=True, length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_steps_campaign_position", "approval_steps", ["campaign_id", "position"])
    op.create_table(
        "approval_step_approvers",
        sa.Column("step_id", sa.Integer(), sa.ForeignKey("approval_steps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("step_id", "user_id"),
    )
    op.create_index(op.f("ix_approval_step_approvers_user_id"), "approval_step_approvers", ["user_id"])
    op.add_column("review_links", sa.Column("step_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_review_links_step_id_approval_steps"), "review_links", "approval_steps",
                          ["step_id"], ["id"], ondelete="SET NULL")
    op.create_table(
        "step_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_id", sa.Integer(), sa.ForeignKey("approval_steps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("review_link_id", sa.Integer(), sa.ForeignKey("review_links.id", ondelete="SET NULL"), nullable=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("fingerprint", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("object_id", "step_id", "user_id"),
    )
    op.create_index(op.f("ix_step_approvals_object_id"), "step_approvals", ["object_id"])
    op.create_index(op.f("ix_step_approvals_step_id"), "step_approvals", ["step_id"])
    op.create_table(
        "approval_progress",
        sa.Column("object_id", sa.Integer(), sa.ForeignKey("content_objects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_id", sa.Integer(), sa.ForeignKey("approval_steps.id", ondelete="SET NULL"), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("object_id"),
    )
    op.create_index(op.f("ix_approval_progress_step_id"), "approval_progress", ["step_id"])


def downgrade():
    op.drop_index(op.f("ix_approval_progress_step_id"), table_name="approval_progress")
    op.drop_table("approval_progress")
    op.drop_index(op.f("ix_step_approvals_step_id"), table_name="step_approvals")
    op.drop_index(op.f("ix_step_approvals_object_id"), table_name="step_approvals")
    op.drop_table("step_approvals")
    op.drop_constraint(op.f("fk_review_links_step_id_approval_steps"), "review_links", type_="foreignkey")
    op.drop_column("review_links", "step_id")
    op.drop_index(op.f("ix_approval_step_approvers_user_id"), table_name="approval_step_approvers")
    op.drop_table("approval_step_approvers")
    op.drop_index("ix_approval_steps_campaign_position", table_name="approval_steps")
    op.drop_table("approval_steps")
    op.drop_table("approval_settings")
