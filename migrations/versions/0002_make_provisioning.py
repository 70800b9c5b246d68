"""Make provisioning: the hook's udid and the cloned template on campaign scenarios; the
result of an admin's "test" on social accounts.

Revision ID: 0002_make
Revises: 0001
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_make'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_scenarios', schema=None) as batch_op:
        batch_op.add_column(sa.Column('make_hook_udid', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('make_template_id', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('social_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test_status', sa.Enum('pending', 'ok', 'failed', name='account_test_status', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('test_message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('tested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('social_accounts', schema=None) as batch_op:
        batch_op.drop_column('tested_at')
        batch_op.drop_column('test_message')
        batch_op.drop_column('test_status')

    with op.batch_alter_table('campaign_scenarios', schema=None) as batch_op:
        batch_op.drop_column('make_template_id')
        batch_op.drop_column('make_hook_udid')
