"""nominations: a round's notice (文号, text, contacts, attachments) and per-level deadlines; counties' batches (报送)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("rounds", sa.Column("notice", JSON, nullable=True, comment="通知: 文号, text, contacts, attachments"))
    op.add_column(
        "rounds",
        sa.Column("level_deadlines", JSON, nullable=True, comment="{org level: ISO deadline} of each level's 报送"),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("round_id", sa.Uuid, nullable=False),
        sa.Column("org_code", sa.String(32), nullable=False),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.Column("org_name", sa.String(200), nullable=False),
        sa.Column("to_role", sa.String(40), nullable=False),
        sa.Column("to_org_path", sa.String(400), nullable=False),
        sa.Column("nominations", JSON, nullable=False),
        sa.Column("opinion", sa.Text, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_batches_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("round_id", "org_code", name="uq_batches_round_org"),
    )
    op.create_index(op.f("ix_batches_round_id"), "batches", ["round_id"])
    op.create_index(op.f("ix_batches_org_path"), "batches", ["org_path"])


def downgrade() -> None:
    op.drop_table("batches")
    op.drop_column("rounds", "level_deadlines")
    op.drop_column("rounds", "notice")
