"""notifications: the shared branch joins this history (outbox, inbox, idempotency keys and audit_log are shared's now)

Revision ID: 0004
Revises: 0003, shared_0001

shared_0001 (shared/migrations/versions) adopted the tables this service's revisions used to make and gave
audit_log the one shape every service shares. Merging here keeps one head, so `upgrade head` still means all.
"""

revision = "0004"
down_revision = ("0003", "shared_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
