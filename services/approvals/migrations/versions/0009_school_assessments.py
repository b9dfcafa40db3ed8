"""每2年对学校信息化工作考核一次: the school assessment belongs to the school, not to an appointment

Revision ID: 0009
Revises: 0008

Issue 17 (12): an evaluation (and the rectification it orders) may be about a school with no appointment: its
`subject` is `school`, `round_id` names the round whose policy the school follows; one per school, kind and period.
Every row of before was an appointment's (subject `cio`). Downgrading deletes the school assessments (their
rectifications and the reports' attachments): the old schema has nowhere to keep them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "evaluations",
        sa.Column(
            "subject", sa.String(16), nullable=False, server_default="cio", comment="cio (the appointment), school"
        ),
    )
    op.add_column(
        "evaluations",
        sa.Column("round_id", sa.Uuid(), nullable=True, comment="a school assessment: the round whose policy"),
    )
    op.alter_column("evaluations", "appointment_id", existing_type=sa.Uuid(), nullable=True)
    op.alter_column("evaluations", "person_user_id", existing_type=sa.String(64), nullable=True)
    op.alter_column("evaluations", "person_name", existing_type=sa.String(100), nullable=True)
    op.create_index(
        "uq_evaluations_school_kind_period",
        "evaluations",
        ["org_code", "kind", "period"],
        unique=True,
        postgresql_where=sa.text("appointment_id IS NULL"),
    )
    op.alter_column("rectifications", "appointment_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    school = "SELECT id FROM evaluations WHERE appointment_id IS NULL"
    op.execute(
        "DELETE FROM rectification_attachments WHERE rectification_id IN "
        f"(SELECT id FROM rectifications WHERE evaluation_id IN ({school}))"
    )
    op.execute(f"DELETE FROM rectifications WHERE evaluation_id IN ({school})")
    op.execute("DELETE FROM evaluations WHERE appointment_id IS NULL")
    op.alter_column("rectifications", "appointment_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_index("uq_evaluations_school_kind_period", table_name="evaluations")
    op.alter_column("evaluations", "person_name", existing_type=sa.String(100), nullable=False)
    op.alter_column("evaluations", "person_user_id", existing_type=sa.String(64), nullable=False)
    op.alter_column("evaluations", "appointment_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_column("evaluations", "round_id")
    op.drop_column("evaluations", "subject")
