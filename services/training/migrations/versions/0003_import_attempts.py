"""import jobs count their attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('attempts', sa.Integer(), server_default='0', nullable=False,
                      comment='times a worker took the job; it fails once a dead worker used them up')
        )


def downgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('attempts')
