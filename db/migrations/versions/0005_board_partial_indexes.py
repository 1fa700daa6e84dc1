"""Partial indexes for the live board: open obligations, open cases

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_obligations_open_board", "obligations",
                    ["warn_at", "due_at", "rule_id", "case_closed_at", "team_id", "handler_id", "category", "channel"],
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_index("ix_cases_open", "cases", ["acceptance", "received_at", "team_id", "handler_id", "category", "channel"],
                    sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"))
    # Superseded by the partial index (warn_at only matters for open obligations).
    op.drop_index("ix_obligations_state_warn", table_name="obligations")


def downgrade() -> None:
    op.create_index("ix_obligations_state_warn", "obligations", ["state", "warn_at"])
    op.drop_index("ix_cases_open", table_name="cases")
    op.drop_index("ix_obligations_open_board", table_name="obligations")
