"""training: its copy of the directory (people, orgs) moves into the shared projection (shared_0002)

Revision ID: 0007
Revises: 0006, shared_0002

shared_0002 made directory_users and directory_orgs; training's rows move there (user ids as identity's text) and
its own tables go. Downgrading puts them back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = ("0006", "shared_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO directory_orgs (code, name, path, level, parent_code) "
        "SELECT code, name, path, level, parent_code FROM orgs"
    )
    op.execute(
        "INSERT INTO directory_users (user_id, username, display_name, locale, org_code, is_active, updated_at) "
        "SELECT user_id::text, username, display_name, 'zh-CN', org_code, is_active, updated_at FROM people"
    )
    op.drop_index(op.f("ix_people_username"), table_name="people")
    op.drop_index(op.f("ix_people_org_code"), table_name="people")
    op.drop_table("people")
    op.drop_index(op.f("ix_orgs_path"), table_name="orgs")
    op.drop_table("orgs")


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
        "people",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_people")),
    )
    op.create_index(op.f("ix_people_org_code"), "people", ["org_code"])
    op.create_index(op.f("ix_people_username"), "people", ["username"])
    op.execute(
        "INSERT INTO orgs (code, name, level, parent_code, path) "
        "SELECT code, name, level, parent_code, path FROM directory_orgs"
    )
    op.execute(
        "INSERT INTO people (user_id, username, display_name, org_code, is_active, updated_at) "
        "SELECT user_id::uuid, username, coalesce(display_name, ''), org_code, is_active, updated_at "
        "FROM directory_users WHERE username IS NOT NULL"
    )
    op.execute("DELETE FROM directory_users")
    op.execute("DELETE FROM directory_orgs")
