"""notifications: audit_log.org_path: the org a record is about, for GET /api/audit/notifications in scope

Rows written before this revision have none and are shown only to platform-wide auditors and administrators
(the audit trail is never rewritten).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = ("service",)  # the revision shared_0001 (the `shared` branch) follows
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("org_path", sa.String(400), nullable=True))
    # The scope filter is `org_path = X OR org_path LIKE 'X/%'`: a pattern operator class serves both.
    op.create_index(
        "ix_audit_log_org_path_prefix", "audit_log", ["org_path"], postgresql_ops={"org_path": "varchar_pattern_ops"}
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_org_path_prefix", table_name="audit_log")
    op.drop_column("audit_log", "org_path")
