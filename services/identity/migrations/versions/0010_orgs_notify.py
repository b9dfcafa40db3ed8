"""identity: every change to an org is announced on the `identity_orgs` channel (NOTIFY, sent at commit)

Revision ID: 0010
Revises: 0009

The web processes keep the orgs they read in memory (identity.adapters.org_cache) and drop one when its code is
announced; a trigger announces every writer's change (the API, the command line, a migration), not only the
repository's. TRUNCATE announces an empty code: forget them all.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION identity_orgs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('identity_orgs', '');
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('identity_orgs', OLD.code);
            ELSE
                PERFORM pg_notify('identity_orgs', NEW.code);
                IF TG_OP = 'UPDATE' AND OLD.code IS DISTINCT FROM NEW.code THEN
                    PERFORM pg_notify('identity_orgs', OLD.code);
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER orgs_changed AFTER INSERT OR UPDATE OR DELETE ON orgs "
        "FOR EACH ROW EXECUTE FUNCTION identity_orgs_changed()"
    )
    op.execute(
        "CREATE TRIGGER orgs_truncated AFTER TRUNCATE ON orgs FOR EACH STATEMENT EXECUTE FUNCTION identity_orgs_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS orgs_truncated ON orgs")
    op.execute("DROP TRIGGER IF EXISTS orgs_changed ON orgs")
    op.execute("DROP FUNCTION IF EXISTS identity_orgs_changed()")
