"""Partial indexes for the customer-facing board: open deadlines without the archive backlog, breaches
by due time with the board's grouping columns, and the archive backlog by closing time

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
BACKLOG = "state = 'open' AND rule_id = 'ARC-ARCHIVE'"


def upgrade() -> None:
    op.create_index("ix_obligations_open_customer", "obligations",
                    ["warn_at", "due_at", "rule_id", "case_closed_at", "team_id", "handler_id", "category", "channel"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_obligations_breached_due", "obligations",
                    ["due_at", "rule_id", "team_id", "handler_id", "category", "channel", "state"],
                    sqlite_where=sa.text(BREACHED), postgresql_where=sa.text(BREACHED))
    op.create_index("ix_obligations_archive_backlog", "obligations",
                    ["case_closed_at", "team_id", "handler_id", "category", "channel", "state", "rule_id"],
                    sqlite_where=sa.text(BACKLOG), postgresql_where=sa.text(BACKLOG))


def downgrade() -> None:
    op.drop_index("ix_obligations_archive_backlog", table_name="obligations")
    op.drop_index("ix_obligations_breached_due", table_name="obligations")
    op.drop_index("ix_obligations_open_customer", table_name="obligations")
