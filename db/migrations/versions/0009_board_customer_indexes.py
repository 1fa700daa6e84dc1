"""Partial indexes for the customer-facing board: open deadlines without the archive backlog, and
breaches by due time with the board's grouping columns

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = "state = 'open' AND rule_id <> 'ARC-ARCHIVE'"
BREACHED = "state = 'breached'"


def upgrade() -> None:
    op.create_index("ix_obligations_open_customer", "obligations",
                    ["warn_at", "due_at", "rule_id", "case_closed_at", "team_id", "handler_id", "category", "channel"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_obligations_breached_due", "obligations",
                    ["due_at", "rule_id", "team_id", "handler_id", "category", "channel"],
                    sqlite_where=sa.text(BREACHED), postgresql_where=sa.text(BREACHED))


def downgrade() -> None:
    op.drop_index("ix_obligations_breached_due", table_name="obligations")
    op.drop_index("ix_obligations_open_customer", table_name="obligations")
