"""名单公示 as an act: published lists with their period, the people on them, and objections (异议)

Revision ID: 0006
Revises: 0005

Issue 17 (13): the appointing body publishes the list of the people it intends to appoint for a period;
objections with contact details are received during it and resolved by the body before the final approval.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("publisher_org_code", sa.String(32), nullable=False),
        sa.Column("publisher_org_path", sa.String(400), nullable=False),
        sa.Column("publisher_name", sa.String(200), nullable=False),
        sa.Column("publisher_role", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    op.create_index(op.f("ix_publications_round_id"), "publications", ["round_id"])
    op.create_index(op.f("ix_publications_publisher_org_path"), "publications", ["publisher_org_path"])
    op.create_table(
        "publication_entries",
        sa.Column("publication_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["publications.id"], name=op.f("fk_publication_entries_publication_id_publications")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_publication_entries")),
    )
    op.create_index(op.f("ix_publication_entries_publication_id"), "publication_entries", ["publication_id"])
    op.create_table(
        "objections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("publication_id", sa.Uuid(), nullable=False),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.Column("case_id", sa.Uuid()),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(100), nullable=False),
        sa.Column("contact_phone", sa.String(32)),
        sa.Column("contact_email", sa.String(254)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.Text()),
        sa.Column("resolved_by", sa.String(64)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["publications.id"], name=op.f("fk_objections_publication_id_publications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index(op.f("ix_objections_publication_id"), "objections", ["publication_id"])


def downgrade() -> None:
    op.drop_table("objections")
    op.drop_table("publication_entries")
    op.drop_table("publications")
