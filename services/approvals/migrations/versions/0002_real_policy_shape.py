"""real policy snapshot shape: open-ended appointments, stage keys, resubmission modes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A policy without a term length (Jiaozuo) appoints until revoked: no end date.
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.alter_column(
            "ends_on", existing_type=sa.Date(), nullable=True, comment="null: no term set, lasts until revoked"
        )
    # The policy's stable stage name (approval.stages[].name); stage_name keeps the display name (name_zh).
    with op.batch_alter_table("review_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_key", sa.String(length=64), nullable=True))
    # approval.resubmission_reenters is spelled first_stage / returning_stage in the real policies.
    op.execute("UPDATE review_cases SET resubmit_reenters = resubmit_reenters || '_stage' WHERE resubmit_reenters IN ('first', 'returning')")


def downgrade() -> None:
    op.execute(
        "UPDATE review_cases SET resubmit_reenters = replace(resubmit_reenters, '_stage', '') "
        "WHERE resubmit_reenters IN ('first_stage', 'returning_stage')"
    )
    with op.batch_alter_table("review_tasks", schema=None) as batch_op:
        batch_op.drop_column("stage_key")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.alter_column("ends_on", existing_type=sa.Date(), nullable=False, comment=None)
