"""免聘/换届 and 变更报备 as acts: why an appointment ended, and filings the bureau decides

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:40:00

Issue 17 (3, 4): an appointment ends normally with a reason (left the school, retired, reassigned,
succeeded by a new term) apart from 取消任命; a change filing names what changed (person, post,
contact) and is acknowledged or rejected by the bureau, or is owed by the school when the directory
moves its CIO away. Rows filed before keep kind 'other' and status 'filed'.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(
            sa.Column(
                "end_reason",
                sa.String(32),
                nullable=True,
                comment="免聘/换届: left_school, retired, reassigned, succeeded, …",
            )
        )
        batch.add_column(sa.Column("end_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("ended_by", sa.String(64), nullable=True))
    with op.batch_alter_table("appointment_filings") as batch:
        batch.add_column(sa.Column("org_path", sa.String(400), nullable=True))
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="other", comment="person, post, contact")
        )
        batch.add_column(
            sa.Column(
                "status", sa.String(16), nullable=False, server_default="filed", comment="due, filed, acknowledged…"
            )
        )
        batch.add_column(sa.Column("new_person_user_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("new_person_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("opinion", sa.Text(), nullable=True))
        batch.add_column(sa.Column("document_number", sa.String(100), nullable=True))
        batch.add_column(sa.Column("successor_appointment_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.create_index("ix_appointment_filings_org_path", ["org_path"])
    op.execute(
        "UPDATE appointment_filings SET org_path = "
        "(SELECT org_path FROM appointments WHERE appointments.id = appointment_filings.appointment_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("appointment_filings") as batch:
        batch.drop_index("ix_appointment_filings_org_path")
        for column in (
            "version", "successor_appointment_id", "document_number", "opinion", "decided_at", "decided_by",
            "effective_on", "new_person_name", "new_person_user_id", "status", "kind", "org_path",
        ):  # fmt: skip
            batch.drop_column(column)
    with op.batch_alter_table("appointments") as batch:
        for column in ("ended_by", "end_note", "end_reason"):
            batch.drop_column(column)
