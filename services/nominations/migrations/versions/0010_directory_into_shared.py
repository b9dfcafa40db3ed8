"""nominations: its copy of the directory (org_projection, user_projection) moves into the shared projection

Revision ID: 0010
Revises: 0009

shared_0002 made directory_orgs and directory_users (with the profile, gender and birth date the forms prefill and
the 任职条件 read); nominations' rows move there (user ids as identity's text) and its own tables go. Downgrading
puts them back.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PROFILE_COMMENT = "学历, 民族, 教龄, 职务, 职称, 政治面貌 from identity"


def upgrade() -> None:
    op.execute(
        "INSERT INTO directory_orgs (code, name, path, level, parent_code, updated_at) "
        "SELECT code, name, path, level, parent_code, updated_at FROM org_projection"
    )
    op.execute(
        "INSERT INTO directory_users (user_id, username, display_name, email, phone, locale, org_code, gender, "
        "birth_date, profile, is_active, updated_at) "
        "SELECT user_id::text, username, display_name, email, phone, 'zh-CN', org_code, gender, birth_date, "
        "profile::json, is_active, updated_at FROM user_projection"
    )
    op.drop_index(op.f("ix_user_projection_org_code"), table_name="user_projection")
    op.drop_table("user_projection")
    op.drop_index(op.f("ix_org_projection_path"), table_name="org_projection")
    op.drop_table("org_projection")


def downgrade() -> None:
    op.create_table(
        "org_projection",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_org_projection")),
    )
    op.create_index(op.f("ix_org_projection_path"), "org_projection", ["path"])
    op.create_table(
        "user_projection",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("gender", sa.String(16), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profile", postgresql.JSONB(), nullable=True, comment=PROFILE_COMMENT),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_projection")),
    )
    op.create_index(op.f("ix_user_projection_org_code"), "user_projection", ["org_code"])
    op.execute(
        "INSERT INTO org_projection (code, name, level, parent_code, path, updated_at) "
        "SELECT code, name, level, parent_code, path, coalesce(updated_at, now()) FROM directory_orgs"
    )
    op.execute(
        "INSERT INTO user_projection (user_id, username, display_name, org_code, phone, email, gender, birth_date, "
        "is_active, updated_at, profile) "
        "SELECT user_id::uuid, username, coalesce(display_name, ''), org_code, phone, email, gender, birth_date, "
        "is_active, updated_at, profile::jsonb FROM directory_users WHERE username IS NOT NULL"
    )
    op.execute("DELETE FROM directory_users")
    op.execute("DELETE FROM directory_orgs")
