"""报送: the city's review waits for the county's batch (seed 001 「推荐表、汇总表各1份，报送至市教育局」)

Revision ID: 0010
Revises: 0009

Issue 17 (11): approvals keeps a receipt per nomination a county sent up (`nominations.batch.submitted`), and a task
of a stage that awaits a batch names the org whose batch must hold the form (`review_tasks.awaits_batch_from`).
Tasks of before wait for nothing (NULL), as they did. Downgrading drops the receipts and the column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = ("service",)  # the revision shared_0001 (the `shared` branch) follows
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_receipts",
        sa.Column("nomination_id", sa.Uuid(), primary_key=True),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=False),
        sa.Column("org_path", sa.String(400), nullable=False, comment="the sending body (the county)"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column(
        "review_tasks",
        sa.Column(
            "awaits_batch_from", sa.String(400), nullable=True, comment="报送: the org whose batch must hold the form first"
        ),
    )


def downgrade() -> None:
    op.drop_column("review_tasks", "awaits_batch_from")
    op.drop_table("batch_receipts")
