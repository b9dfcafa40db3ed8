"""停用 reaches approvals: the accounts identity disabled, whose access tokens are refused here too

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:10:00

Issue 14 (token attacks): a disabled user's access token was accepted by every service but identity until it
expired. approvals keeps no user projection, so it keeps this small one (identity.user.updated's is_active).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disabled_accounts",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column(
            "is_active", sa.Boolean, nullable=False, comment="false while disabled; re-enabled rows are true"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("disabled_accounts")
