"""notifications: its directory_* tables are the shared directory projection now (shared_0002 adopted them)

Revision ID: 0005
Revises: 0004, shared_0002

Nothing to move: notifications' tables had the shared names already; shared_0002 gave them the columns the other
services need. Merging here keeps one head.
"""

revision = "0005"
down_revision = ("0004", "shared_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
