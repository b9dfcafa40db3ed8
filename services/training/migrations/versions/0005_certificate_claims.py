"""training: certificates claimed on a 推荐表, for the training administrator to confirm

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = ("service",)  # the revision shared_0001 (the `shared` branch) follows
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_claims",
        sa.Column("id", sa.Uuid(), nullable=False, comment="the claim_id nominations gave"),
        sa.Column("nomination_id", sa.Uuid(), nullable=False),
        sa.Column("person_user_id", sa.Uuid(), nullable=False),
        sa.Column("person_name", sa.String(100), nullable=False),
        sa.Column("school_org_path", sa.String(400), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("issuer", sa.String(200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="pending, confirmed, rejected, superseded"),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.String(500)),
        sa.Column("certificate_id", sa.Uuid()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_claims")),
    )
    op.create_index(op.f("ix_certificate_claims_nomination_id"), "certificate_claims", ["nomination_id"])
    op.create_index(op.f("ix_certificate_claims_school_org_path"), "certificate_claims", ["school_org_path"])


def downgrade() -> None:
    op.drop_table("certificate_claims")
