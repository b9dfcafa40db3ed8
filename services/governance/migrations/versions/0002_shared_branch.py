"""governance: the shared branch joins this history (its head: the shared tables and the directory projection)

Revision ID: 0002
Revises: 0001, shared_0002

The shared branch (shared/migrations/versions) makes the outbox, inbox, idempotency keys, audit_log and the
directory projection in this database after the revision labelled `service`. Merging its head here keeps one head,
so `upgrade head` still means all, as in every other service.
"""

revision = "0002"
down_revision = ("0001", "shared_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
