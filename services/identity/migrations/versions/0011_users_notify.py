"""identity: a change to an account's active flag is announced on the `identity_users` channel (NOTIFY, at commit)

Revision ID: 0011
Revises: 0010

Every authenticated request to identity checks the caller's `users.is_active`; the web processes keep what they read
in memory (identity.adapters.verifier over a shared.notified_cache.NotifiedCache) and drop an account when its id is
announced. The trigger announces every writer's change (the API, the command line, a migration, psql), not only the
repository's. An update that leaves `is_active` and `id` as they were (a sign-in, a new phone number) is not
announced: the cache keeps nothing else. TRUNCATE announces an empty id: forget them all.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION identity_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('identity_users', '');
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('identity_users', OLD.id::text);
            ELSE
                PERFORM pg_notify('identity_users', NEW.id::text);
                IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN
                    PERFORM pg_notify('identity_users', OLD.id::text);
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER users_added_or_removed AFTER INSERT OR DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION identity_users_changed()"
    )
    op.execute(
        "CREATE TRIGGER users_activity_changed AFTER UPDATE ON users FOR EACH ROW "
        "WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.id IS DISTINCT FROM NEW.id) "
        "EXECUTE FUNCTION identity_users_changed()"
    )
    op.execute(
        "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users "
        "FOR EACH STATEMENT EXECUTE FUNCTION identity_users_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS users_truncated ON users")
    op.execute("DROP TRIGGER IF EXISTS users_activity_changed ON users")
    op.execute("DROP TRIGGER IF EXISTS users_added_or_removed ON users")
    op.execute("DROP FUNCTION IF EXISTS identity_users_changed()")
