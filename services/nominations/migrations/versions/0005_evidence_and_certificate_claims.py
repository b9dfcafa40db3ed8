"""nominations: 证明材料 uploaded with the form (班子研究授权会议纪要, 合格证扫描件) and a claimed certificate

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "nominations",
        sa.Column("certificate_claim", JSON, nullable=True, comment="合格证 claimed on the form, for training to confirm"),
    )
    op.create_table(
        "nomination_evidence",
        sa.Column("nomination_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, comment="a kind of the policy's form.evidence"),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nominations.id"],
            name=op.f("fk_nomination_evidence_nomination_id_nominations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nomination_id", "kind", name=op.f("pk_nomination_evidence")),
    )


def downgrade() -> None:
    op.drop_table("nomination_evidence")
    op.drop_column("nominations", "certificate_claim")
