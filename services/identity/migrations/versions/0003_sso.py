"""single sign-on: external identities, login states, browser sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Grants from a mapping say which provider gave them: `sso:<provider id>` (ids are up to 32 characters).
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.alter_column(
            'source', existing_type=sa.String(length=16), type_=sa.String(length=40),
            existing_nullable=False, comment='manual, import, sso:<provider>',
        )
    op.create_table(
        'external_identities',
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=128), nullable=False, comment='the upstream user id (sub, CAS user, userId)'),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('last_sign_in_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_external_identities_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('provider', 'subject', name=op.f('pk_external_identities')),
    )
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identities_user_id'), ['user_id'], unique=False)

    op.create_table(
        'sso_login_states',
        sa.Column('state', sa.String(length=64), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('code_verifier', sa.String(length=128), nullable=False),
        sa.Column('return_to', sa.String(length=500), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False, comment='session (cookie) or token (API client)'),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('expires_at', TS, nullable=False),
        sa.Column('used_at', TS, nullable=True),
        sa.PrimaryKeyConstraint('state', name=op.f('pk_sso_login_states')),
    )
    with op.batch_alter_table('sso_login_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_login_states_expires_at'), ['expires_at'], unique=False)

    op.create_table(
        'sso_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False, comment='SHA-256 of the session cookie'),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('upstream_subject', sa.String(length=128), nullable=False),
        sa.Column('upstream_session', sa.String(length=128), nullable=True, comment="OIDC sid, or the CAS service ticket's SHA-256"),
        sa.Column('id_token', sa.Text(), nullable=True, comment='kept as id_token_hint for RP-initiated logout'),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('expires_at', TS, nullable=False),
        sa.Column('ended_at', TS, nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sso_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_sso_sessions')),
    )
    with op.batch_alter_table('sso_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sso_sessions_upstream', ['provider', 'upstream_session'], unique=False)
        batch_op.create_index('ix_sso_sessions_subject', ['provider', 'upstream_subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_sessions_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=40), type_=sa.String(length=16), existing_nullable=False)
    op.drop_table('sso_sessions')
    op.drop_table('sso_login_states')
    op.drop_table('external_identities')
