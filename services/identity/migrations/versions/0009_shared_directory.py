"""identity: the shared branch's directory projection (shared_0002) joins this history

Revision ID: 0009
Revises: 0008, shared_0002

Merging here keeps one head.
"""

revision = "0009"
down_revision = ("0008", "shared_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
