"""approvals: its copy of the directory (orgs, role_grants, disabled_accounts) moves into the shared projection

Revision ID: 0012
Revises: 0011, shared_0002

shared_0002 made directory_orgs, directory_users and directory_grants; approvals' rows move there (an account of
disabled_accounts becomes a user row that knows only its status) and its own tables go. Downgrading puts them back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = ("0011", "shared_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO directory_orgs (code, name, path, level, parent_code) "
        "SELECT code, name, path, level, parent_code FROM orgs"
    )
    op.execute(
        "INSERT INTO directory_grants (grant_id, user_id, role, org_code, org_path) "
        "SELECT grant_id, user_id, role, org_code, org_path FROM role_grants"
    )
    op.execute(
        "INSERT INTO directory_users (user_id, locale, is_active, updated_at) "
        "SELECT user_id, 'zh-CN', is_active, updated_at FROM disabled_accounts"
    )
    op.drop_index(op.f("ix_orgs_path"), table_name="orgs")
    op.drop_table("orgs")
    op.drop_index(op.f("ix_role_grants_user_id"), table_name="role_grants")
    op.drop_table("role_grants")
    op.drop_table("disabled_accounts")


def downgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("path", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_orgs")),
    )
    op.create_index(op.f("ix_orgs_path"), "orgs", ["path"])
    op.create_table(
        "role_grants",
        sa.Column("grant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=True),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_role_grants")),
    )
    op.create_index(op.f("ix_role_grants_user_id"), "role_grants", ["user_id"])
    op.create_table(
        "disabled_accounts",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column(
            "is_active", sa.Boolean, nullable=False, comment="false while disabled; re-enabled rows are true"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO orgs (code, name, level, parent_code, path) "
        "SELECT code, name, level, parent_code, path FROM directory_orgs"
    )
    op.execute(
        "INSERT INTO role_grants (grant_id, user_id, role, org_code, org_path) "
        "SELECT grant_id, user_id, role, org_code, org_path FROM directory_grants"
    )
    op.execute(
        "INSERT INTO disabled_accounts (user_id, is_active, updated_at) "
        "SELECT user_id, is_active, updated_at FROM directory_users"
    )
    op.execute("DELETE FROM directory_users")
    op.execute("DELETE FROM directory_grants")
    op.execute("DELETE FROM directory_orgs")
