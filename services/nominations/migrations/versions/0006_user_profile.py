"""nominations: user_projection.profile — 学历, 民族, 教龄, 职务, 职称, 政治面貌 from identity, for prefilling

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "user_projection",
        sa.Column("profile", JSON, nullable=True, comment="学历, 民族, 教龄, 职务, 职称, 政治面貌 from identity"),
    )


def downgrade() -> None:
    op.drop_column("user_projection", "profile")
