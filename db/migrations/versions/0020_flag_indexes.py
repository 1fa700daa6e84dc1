"""Which cases raise a flag, by case: two small partial indexes for the sampling population

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

SETTLED = "state IN ('breached', 'review')"
OPEN = "state = 'open'"


def upgrade() -> None:
    op.create_index("ix_obligations_case_settled_flag", "obligations", ["case_id"],
                    sqlite_where=sa.text(SETTLED), postgresql_where=sa.text(SETTLED))
    op.create_index("ix_obligations_case_open_warn", "obligations", ["case_id", "warn_at"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("ix_obligations_case_open_warn", table_name="obligations")
    op.drop_index("ix_obligations_case_settled_flag", table_name="obligations")
