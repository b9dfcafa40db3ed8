"""nominations: an index the org-subtree filter (path = X OR path LIKE 'X/%') can use under any collation

The plain btree index on school_org_path serves equality only: PostgreSQL uses a btree for LIKE 'prefix%' only
with the C collation or a pattern operator class, so a school admin's list was a sequential scan of the table.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_nominations_school_org_path_prefix",
        "nominations",
        ["school_org_path"],
        postgresql_ops={"school_org_path": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_nominations_school_org_path_prefix", table_name="nominations")
