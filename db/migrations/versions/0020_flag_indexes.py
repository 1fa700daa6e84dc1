"""Settled flags (breach, review) by closing time: a small partial index for the sampling population

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


def upgrade() -> None:
    op.create_index("ix_obligations_settled_closed", "obligations", ["case_closed_at", "case_id"],
                    sqlite_where=sa.text(SETTLED), postgresql_where=sa.text(SETTLED))


def downgrade() -> None:
    op.drop_index("ix_obligations_settled_closed", table_name="obligations")
