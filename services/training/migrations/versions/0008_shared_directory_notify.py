"""training: the shared branch's directory_users trigger (shared_0003) joins this history

Revision ID: 0008
Revises: 0007, shared_0003

Merging here keeps one head.
"""

revision = "0008"
down_revision = ("0007", "shared_0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
