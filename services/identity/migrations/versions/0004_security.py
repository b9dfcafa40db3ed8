"""security: external ids belong to a source, back-channel logout tokens are spent once

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # An external id is only meaningful with the provider that issued it; ids set before this (no source)
    # no longer link anyone at sign-in until a root administrator names their source.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('external_source', sa.String(length=32), nullable=True, comment='the provider the external id is of')
        )
        batch_op.drop_constraint('uq_users_external_id', type_='unique')
        batch_op.create_unique_constraint('uq_users_external_source', ['external_source', 'external_id'])
    op.create_table(
        'sso_logout_tokens',
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('jti', sa.String(length=128), nullable=False),
        sa.Column('expires_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('provider', 'jti', name=op.f('pk_sso_logout_tokens')),
    )
    with op.batch_alter_table('sso_logout_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_logout_tokens_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_user_id'))
    op.drop_table('sso_logout_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_external_source', type_='unique')
        batch_op.create_unique_constraint('uq_users_external_id', ['external_id'])
        batch_op.drop_column('external_source')
