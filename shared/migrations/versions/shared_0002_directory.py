"""shared: the directory projection (directory_orgs, directory_users, directory_grants) in every service's database

Revision ID: shared_0002
Revises: shared_0001

Four services kept four copies of identity's orgs, users and grants under different names (approvals: orgs,
role_grants, disabled_accounts; nominations: org_projection, user_projection; notifications: directory_*;
training: people, orgs). This revision makes the one projection (shared.directory): notifications' tables are
adopted and gain the columns the others need; the others' tables are created here, and each service's next revision
copies its old rows into them and drops its copy. Downgrading leaves the tables: below this revision notifications'
own revisions own them, and a service's revision that copied its rows puts them back on its own downgrade.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "shared_0002"
down_revision = "shared_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PROFILE_COMMENT = "学历, 民族, 教龄, 职务, 职称, 政治面貌 from identity: what the forms prefill"
NAME_COMMENT = "none while only the account's status is known"
ACTIVE_COMMENT = "false while disabled (停用)"


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {
        "directory_orgs": [
            sa.Column("code", sa.String(32), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("path", sa.String(400), nullable=False),
            sa.Column("level", sa.String(16), nullable=False),
            sa.Column("parent_code", sa.String(32), nullable=True),
            sa.Column("updated_at", TS, nullable=True),
        ],
        "directory_users": [
            sa.Column("user_id", sa.String(64), nullable=False),
            sa.Column("username", sa.String(64), nullable=True),
            sa.Column("display_name", sa.String(100), nullable=True, comment=NAME_COMMENT),
            sa.Column("email", sa.String(254), nullable=True),
            sa.Column("phone", sa.String(32), nullable=True),
            sa.Column("locale", sa.String(16), nullable=False),
            sa.Column("org_code", sa.String(32), nullable=True),
            sa.Column("gender", sa.String(16), nullable=True),
            sa.Column("birth_date", sa.Date(), nullable=True),
            sa.Column("profile", sa.JSON(), nullable=True, comment=PROFILE_COMMENT),
            sa.Column("is_active", sa.Boolean(), nullable=False, comment=ACTIVE_COMMENT),
            sa.Column("updated_at", TS, nullable=False),
        ],
        "directory_grants": [
            sa.Column("grant_id", sa.String(64), nullable=False),
            sa.Column("user_id", sa.String(64), nullable=False),
            sa.Column("role", sa.String(40), nullable=False),
            sa.Column("org_code", sa.String(32), nullable=True),
            sa.Column("org_path", sa.String(400), nullable=False),
        ],
    }


KEYS = {"directory_orgs": "code", "directory_users": "user_id", "directory_grants": "grant_id"}
INDEXES = {
    "directory_users": [("ix_directory_users_org_code", ["org_code"]), ("ix_directory_users_username", ["username"])],
    "directory_grants": [("ix_directory_grants_role_path", ["role", "org_path"]), ("ix_directory_grants_user_id", ["user_id"])],
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    for table, wanted in columns().items():
        if table not in tables:
            extra: list[Any] = [sa.PrimaryKeyConstraint(KEYS[table], name=f"pk_{table}")]
            if table == "directory_orgs":
                extra.append(sa.UniqueConstraint("path", name="uq_directory_orgs_path"))
            op.create_table(table, *wanted, *extra)
            present: set[str | None] = set()
        else:
            adopt(table, wanted, {c["name"]: c for c in inspector.get_columns(table)})
            present = {i["name"] for i in inspector.get_indexes(table)}
        for name, indexed in INDEXES.get(table, []):
            if name not in present:
                op.create_index(name, table, indexed)


def adopt(table: str, wanted: list[sa.Column[Any]], found: dict[str, Any]) -> None:
    """An existing table (notifications' directory, or one left by a downgrade) gains what it lacks."""
    with op.batch_alter_table(table) as batch:
        for column in wanted:
            old = found.get(column.name)
            if old is None:
                batch.add_column(column)
            elif old["nullable"] != column.nullable or (old.get("comment") or None) != column.comment:
                batch.alter_column(
                    column.name, existing_type=old["type"], nullable=column.nullable, comment=column.comment
                )


def downgrade() -> None:
    pass  # see the module docstring
