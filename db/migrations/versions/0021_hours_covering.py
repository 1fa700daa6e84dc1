"""Covering indexes: hourly deadline counts with the count itself (the board's period statistics); open
deadlines by warning time with their case (the sampling population's flags); on PostgreSQL, closed cases by
closing time with their id (SQLite's indexes carry the row id anyway)

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

COLUMNS = ["hour", "rule_id", "state", "team_id", "category", "channel", "n"]
CLOSED = ["closed_at", "received_at", "acceptance", "team_id", "handler_id", "category", "channel"]


def upgrade() -> None:
    op.create_index("ix_deadline_hours_covering", "deadline_hours", COLUMNS)
    op.create_index("ix_obligations_open_warn_case", "obligations", ["warn_at", "case_id"],
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_closed_covering", table_name="cases")
        op.create_index("ix_cases_closed_covering", "cases", CLOSED, postgresql_include=["id"],
                        postgresql_where=sa.text("closed_at IS NOT NULL"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_closed_covering", table_name="cases")
        op.create_index("ix_cases_closed_covering", "cases", CLOSED, postgresql_where=sa.text("closed_at IS NOT NULL"))
    op.drop_index("ix_obligations_open_warn_case", table_name="obligations")
    op.drop_index("ix_deadline_hours_covering", table_name="deadline_hours")
