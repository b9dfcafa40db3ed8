"""shared: a change to an account's active flag in the directory projection is announced on `directory_users`

Revision ID: shared_0003
Revises: shared_0002

Every authenticated request checks the caller's `is_active` in directory_users; the web processes keep what they
read in memory (shared.auth.directory_is_disabled over a shared.notified_cache.NotifiedCache) and drop a user when
their id is announced (NOTIFY, sent when the writing transaction commits). The trigger announces every writer's
change (the consumers' handlers, a migration, psql), not only the handlers'. An update that leaves `is_active` and
`user_id` as they were (a new name, a moved org) is not announced: the cache keeps nothing else. TRUNCATE announces
an empty id: forget them all.
"""

from alembic import op

revision = "shared_0003"
down_revision = "shared_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION directory_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('directory_users', '');
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('directory_users', OLD.user_id);
            ELSE
                PERFORM pg_notify('directory_users', NEW.user_id);
                IF TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id THEN
                    PERFORM pg_notify('directory_users', OLD.user_id);
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER directory_users_added_or_removed AFTER INSERT OR DELETE ON directory_users "
        "FOR EACH ROW EXECUTE FUNCTION directory_users_changed()"
    )
    op.execute(
        "CREATE TRIGGER directory_users_activity_changed AFTER UPDATE ON directory_users FOR EACH ROW "
        "WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.user_id IS DISTINCT FROM NEW.user_id) "
        "EXECUTE FUNCTION directory_users_changed()"
    )
    op.execute(
        "CREATE TRIGGER directory_users_truncated AFTER TRUNCATE ON directory_users "
        "FOR EACH STATEMENT EXECUTE FUNCTION directory_users_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS directory_users_truncated ON directory_users")
    op.execute("DROP TRIGGER IF EXISTS directory_users_activity_changed ON directory_users")
    op.execute("DROP TRIGGER IF EXISTS directory_users_added_or_removed ON directory_users")
    op.execute("DROP FUNCTION IF EXISTS directory_users_changed()")
