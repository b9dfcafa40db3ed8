"""nominations: the shared branch's directory_users trigger (shared_0003) joins this history

Revision ID: 0011
Revises: 0010, shared_0003

Merging here keeps one head.
"""

revision = "0011"
down_revision = ("0010", "shared_0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
