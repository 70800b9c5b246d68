"""Initial schema: accounts, social accounts, media, campaigns, objects, outbox, audit.

Also enables the PostgreSQL extensions the search and matching features rely on
(all three are trusted extensions: a database owner may create them).

Revision ID: 0001
Revises: 
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


EXTENSIONS = ("unaccent", "pg_trgm", "fuzzystrmatch")


def upgrade():
    for name in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
    op.create_table('social_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('facebook', 'instagram', 'youtube', 'linkedin', 'x', 'tiktok', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('make_connection_id', sa.BigInteger(), nullable=False),
    sa.Column('account_identifier', sa.String(length=120), nullable=False),
    sa.Column('template_scenario_id', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_accounts')),
    sa.UniqueConstraint('platform', 'account_identifier', name=op.f('uq_social_accounts_platform_account_identifier'))
    )
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('normalized', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('normalized', name=op.f('uq_tags_normalized'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('admin', 'editor', 'approver', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('uq_users_email_lower', [sa.literal_column('lower(email)')], unique=True)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_subject', ['subject_type', 'subject_id', 'created_at'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('active', 'archived', name='campaign_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_campaigns_dates_ordered')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('media_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('image', 'video', 'document', name='media_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_backend', sa.Enum('local', 'sharepoint', name='storage_backend', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('storage_item_id', sa.String(length=255), nullable=True),
    sa.Column('web_url', sa.Text(), nullable=True),
    sa.Column('share_url', sa.Text(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('duration_s', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('status', sa.Enum('processing', 'ready', 'failed', name='media_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_media_assets_size_nonnegative')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_media_assets_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_assets')),
    sa.UniqueConstraint('sha256', name=op.f('uq_media_assets_sha256'))
    )
    with op.batch_alter_table('media_assets', schema=None) as batch_op:
        batch_op.create_index('ix_media_assets_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_assets_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_assets_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('campaign_scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('social_account_id', sa.Integer(), nullable=False),
    sa.Column('make_scenario_id', sa.BigInteger(), nullable=True),
    sa.Column('make_hook_id', sa.BigInteger(), nullable=True),
    sa.Column('webhook_url', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('provisioning', 'ready', 'failed', 'stopped', name='scenario_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_scenarios_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['social_account_id'], ['social_accounts.id'], name=op.f('fk_campaign_scenarios_social_account_id_social_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_scenarios')),
    sa.UniqueConstraint('campaign_id', 'social_account_id', name=op.f('uq_campaign_scenarios_campaign_id_social_account_id'))
    )
    with op.batch_alter_table('campaign_scenarios', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_scenarios_social_account_id'), ['social_account_id'], unique=False)

    op.create_table('content_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), server_default='', nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('draft', 'in_review', 'changes_requested', 'approved', 'scheduled', 'publishing', 'published', 'failed', name='object_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_content_objects_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_content_objects_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_objects'))
    )
    with op.batch_alter_table('content_objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_objects_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_content_objects_campaign_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_objects_scheduled_at'), ['scheduled_at'], unique=False)

    op.create_table('media_tags',
    sa.Column('media_asset_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['media_asset_id'], ['media_assets.id'], name=op.f('fk_media_tags_media_asset_id_media_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_media_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('media_asset_id', 'tag_id', name=op.f('pk_media_tags'))
    )
    with op.batch_alter_table('media_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.Enum('approved', 'changes_requested', name='decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('fingerprint', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_approvals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['object_id'], ['content_objects.id'], name=op.f('fk_approvals_object_id_content_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_object_id'), ['object_id'], unique=False)

    op.create_table('object_media',
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('media_asset_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('position >= 0', name=op.f('ck_object_media_position_nonnegative')),
    sa.ForeignKeyConstraint(['media_asset_id'], ['media_assets.id'], name=op.f('fk_object_media_media_asset_id_media_assets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['object_id'], ['content_objects.id'], name=op.f('fk_object_media_object_id_content_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('object_id', 'media_asset_id', name=op.f('pk_object_media'))
    )
    with op.batch_alter_table('object_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_object_media_media_asset_id'), ['media_asset_id'], unique=False)

    op.create_table('object_targets',
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('campaign_scenario_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_scenario_id'], ['campaign_scenarios.id'], name=op.f('fk_object_targets_campaign_scenario_id_campaign_scenarios'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['object_id'], ['content_objects.id'], name=op.f('fk_object_targets_object_id_content_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('object_id', 'campaign_scenario_id', name=op.f('pk_object_targets'))
    )
    with op.batch_alter_table('object_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_object_targets_campaign_scenario_id'), ['campaign_scenario_id'], unique=False)

    op.create_table('publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('campaign_scenario_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('generation', sa.Integer(), server_default='1', nullable=False),
    sa.Column('fingerprint', sa.String(length=80), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'published', 'failed', 'unknown', name='publication_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('external_url', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_publications_attempts_nonnegative')),
    sa.ForeignKeyConstraint(['campaign_scenario_id'], ['campaign_scenarios.id'], name=op.f('fk_publications_campaign_scenario_id_campaign_scenarios'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['object_id'], ['content_objects.id'], name=op.f('fk_publications_object_id_content_objects'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_publications_idempotency_key')),
    sa.UniqueConstraint('object_id', 'campaign_scenario_id', 'generation', name=op.f('uq_publications_object_id_campaign_scenario_id_generation'))
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publications_campaign_scenario_id'), ['campaign_scenario_id'], unique=False)
        batch_op.create_index('ix_publications_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status IN ('pending', 'sending')"))
        batch_op.create_index(batch_op.f('ix_publications_object_id'), ['object_id'], unique=False)
        batch_op.create_index('ix_publications_status', ['status'], unique=False)

    op.create_table('callback_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.String(length=200), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_callback_events_publication_id_publications'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_events')),
    sa.UniqueConstraint('webhook_id', name=op.f('uq_callback_events_webhook_id'))
    )
    with op.batch_alter_table('callback_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_events_publication_id'), ['publication_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_events_received_at'), ['received_at'], unique=False)



def downgrade():
    with op.batch_alter_table('callback_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_events_received_at'))
        batch_op.drop_index(batch_op.f('ix_callback_events_publication_id'))

    op.drop_table('callback_events')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_status')
        batch_op.drop_index(batch_op.f('ix_publications_object_id'))
        batch_op.drop_index('ix_publications_due', postgresql_where=sa.text("status IN ('pending', 'sending')"))
        batch_op.drop_index(batch_op.f('ix_publications_campaign_scenario_id'))

    op.drop_table('publications')
    with op.batch_alter_table('object_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_object_targets_campaign_scenario_id'))

    op.drop_table('object_targets')
    with op.batch_alter_table('object_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_object_media_media_asset_id'))

    op.drop_table('object_media')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_object_id'))

    op.drop_table('approvals')
    with op.batch_alter_table('media_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_tags_tag_id'))

    op.drop_table('media_tags')
    with op.batch_alter_table('content_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_objects_scheduled_at'))
        batch_op.drop_index('ix_content_objects_campaign_status')
        batch_op.drop_index(batch_op.f('ix_content_objects_author_id'))

    op.drop_table('content_objects')
    with op.batch_alter_table('campaign_scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_scenarios_social_account_id'))

    op.drop_table('campaign_scenarios')
    with op.batch_alter_table('media_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_assets_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_media_assets_kind'))
        batch_op.drop_index('ix_media_assets_created_at_id')

    op.drop_table('media_assets')
    op.drop_table('campaigns')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_email_lower')

    op.drop_table('users')
    op.drop_table('tags')
    op.drop_table('social_accounts')
    for name in reversed(EXTENSIONS):
        op.execute(f"DROP EXTENSION IF EXISTS {name}")
