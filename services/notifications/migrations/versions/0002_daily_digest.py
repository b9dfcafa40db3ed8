"""daily digest: per-user digest preference, held e-mail deliveries and the digest that carried them

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("preferences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=16), nullable=True, comment="null/off or daily"))
        batch_op.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True, comment="local HH:MM"))
        batch_op.add_column(sa.Column("digest_timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(
            sa.Column("digest_id", sa.Uuid(), nullable=True, comment="the digest delivery that carried this one")
        )
        batch_op.create_index("ix_deliveries_digest_id", ["digest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_digest_id")
        batch_op.drop_column("digest_id")
        batch_op.alter_column("message_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("preferences", schema=None) as batch_op:
        batch_op.drop_column("digest_timezone")
        batch_op.drop_column("digest_time")
        batch_op.drop_column("digest")
