"""identity: users.profile — 学历, 民族, 教龄, 职务, 职称, 政治面貌 from imports and sign-in claims (避免重复采集)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("profile", sa.JSON(), nullable=True, comment="学历, 民族, 教龄, 职务, 职称, 政治面貌: what the forms prefill"),
    )


def downgrade() -> None:
    op.drop_column("users", "profile")
