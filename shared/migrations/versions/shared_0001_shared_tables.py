"""shared: the tables shared owns in every service's database (outbox, inbox, idempotency keys, the audit trail)

Revision ID: shared_0001
Revises: (base of the `shared` branch; after the revision labelled `service` in the service's own history)

Before this branch each service's own revisions made these tables, and four made `audit_log` in three shapes. This
revision adopts what exists and creates what does not, so a database of any service, fresh or migrated before, ends
with one schema:
- outbox, inbox, idempotency_keys: created when missing (their shape never differed between services);
- audit_log: created when missing; an existing one gains the columns of the one shape (`target`, its `<type>:<id>`
  parts `target_type`/`target_id`, `ip`, a nullable `org_path`) and its indexes, approvals' rows get their `target`
  (`<target_type>:<target_id>`, what its listing always showed) and nominations' `details` become JSON;
- on PostgreSQL the trail is append-only for every service (approvals' 0004 trigger, now everyone's): no UPDATE,
  no TRUNCATE, DELETE only of rows past the 180-day retention.
Downgrading leaves the tables as they are: below this revision the services' own revisions own them, and the
trail is never rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "shared_0001"
down_revision = None
branch_labels = ("shared",)
depends_on = ("service",)

RETENTION = "180 days"

TS = sa.DateTime(timezone=True)

AUDIT_LOG_COLUMNS = {
    "target": lambda: sa.Column("target", sa.String(200)),
    "target_type": lambda: sa.Column("target_type", sa.String(30)),
    "target_id": lambda: sa.Column("target_id", sa.String(64)),
    "org_path": lambda: sa.Column("org_path", sa.String(400), comment="scope: auditors see rows in their subtree"),
    "ip": lambda: sa.Column("ip", sa.String(64)),
}


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "outbox" not in tables:
        create_outbox()
    if "inbox" not in tables:
        op.create_table(
            "inbox",
            sa.Column("consumer", sa.String(200), nullable=False),
            sa.Column("event_id", sa.String(64), nullable=False),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("processed_at", TS, nullable=False),
            sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        )
    if "idempotency_keys" not in tables:
        op.create_table(
            "idempotency_keys",
            sa.Column("caller", sa.String(100), nullable=False),
            sa.Column("key", sa.String(100), nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False, comment="SHA-256 of method, path and body"),
            sa.Column("status", sa.Integer(), nullable=True, comment="null while the first request runs"),
            sa.Column("body", sa.Text(), nullable=True),
            sa.Column("headers", sa.JSON(), nullable=True),
            sa.Column("created_at", TS, nullable=False),
            sa.PrimaryKeyConstraint("caller", "key", name=op.f("pk_idempotency_keys")),
        )
        op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])
    if "audit_log" in tables:
        adopt_audit_log()
    else:
        create_audit_log()
    if op.get_bind().dialect.name == "postgresql":
        make_audit_log_append_only()


def downgrade() -> None:
    pass  # see the module docstring: below this revision the tables are the services' own


def create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), nullable=False, comment="the CloudEvent id"),
        sa.Column("type", sa.String(200), nullable=False, comment="routing key"),
        sa.Column("body", sa.Text(), nullable=False, comment="the CloudEvent as JSON"),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_pending", "outbox", ["status", "next_attempt_at"])


def create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        AUDIT_LOG_COLUMNS["target"](),
        AUDIT_LOG_COLUMNS["target_type"](),
        AUDIT_LOG_COLUMNS["target_id"](),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        AUDIT_LOG_COLUMNS["org_path"](),
        AUDIT_LOG_COLUMNS["ip"](),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    create_audit_log_indexes(set())


def adopt_audit_log() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"]: c for c in inspector.get_columns("audit_log")}
    indexes = {i["name"] for i in inspector.get_indexes("audit_log")}
    postgresql = op.get_bind().dialect.name == "postgresql"
    guarded = postgresql and any(t["name"] == "audit_log_append_only" for t in triggers())
    if guarded:  # approvals' trail was append-only already: its rows get their target below
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    with op.batch_alter_table("audit_log") as batch:
        for name, column in AUDIT_LOG_COLUMNS.items():
            if name not in columns:
                batch.add_column(column())
        for name in ("target_type", "target_id", "org_path"):
            if name in columns and not columns[name]["nullable"]:
                batch.alter_column(name, existing_type=columns[name]["type"], nullable=True)
        if "org_path" in columns and not columns["org_path"].get("comment"):
            batch.alter_column(
                "org_path", existing_type=sa.String(400), comment=AUDIT_LOG_COLUMNS["org_path"]().comment
            )
        if getattr(columns["outcome"]["type"], "length", 20) < 20:
            batch.alter_column("outcome", existing_type=columns["outcome"]["type"], type_=sa.String(20))
        if postgresql and columns["details"]["type"].__class__.__name__ == "JSONB":
            batch.alter_column(
                "details", existing_type=columns["details"]["type"], type_=sa.JSON(), postgresql_using="details::json"
            )
    if "target" not in columns:  # approvals' rows named their target by its parts only
        op.execute(
            "UPDATE audit_log SET target = target_type || ':' || target_id "
            "WHERE target IS NULL AND target_type IS NOT NULL AND target_id IS NOT NULL"
        )
    if guarded:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    create_audit_log_indexes(indexes)


def create_audit_log_indexes(existing: set[str | None]) -> None:
    if "ix_audit_log_target" not in existing:
        op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "id"])
    if "ix_audit_log_org_path_prefix" not in existing:
        op.create_index(
            "ix_audit_log_org_path_prefix", "audit_log", ["org_path"], postgresql_ops={"org_path": "varchar_pattern_ops"}
        )


def triggers() -> list[dict[str, str]]:
    rows = op.get_bind().execute(
        sa.text("SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal")
    )
    return [dict(r._mapping) for r in rows]


def make_audit_log_append_only() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.at < now() - interval '{RETENTION}' THEN
                    RETURN OLD;  -- past the retention period: may be pruned
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    present = {t["name"] for t in triggers()}
    if "audit_log_append_only" not in present:
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    if "audit_log_no_truncate" not in present:
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
