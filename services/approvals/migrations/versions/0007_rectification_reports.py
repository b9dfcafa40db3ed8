"""整改报告: the school's rectification report and its attachments

Revision ID: 0007
Revises: 0006

Issue 17 (12): the school reports what it rectified, with attachments, before the bureau records the outcome.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rectifications", sa.Column("report_text", sa.Text(), nullable=True))
    op.add_column("rectifications", sa.Column("reported_by", sa.String(64), nullable=True))
    op.add_column("rectifications", sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "rectification_attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["rectifications.id"],
            name=op.f("fk_rectification_attachments_rectification_id_rectifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_attachments")),
    )
    op.create_index(
        op.f("ix_rectification_attachments_rectification_id"), "rectification_attachments", ["rectification_id"]
    )


def downgrade() -> None:
    op.drop_table("rectification_attachments")
    op.drop_column("rectifications", "reported_at")
    op.drop_column("rectifications", "reported_by")
    op.drop_column("rectifications", "report_text")
