"""Closed cases by closing time, covering the board's filters (replaying "open at a past instant")

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ["closed_at", "received_at", "acceptance", "team_id", "handler_id", "category", "channel"]


def upgrade() -> None:
    op.drop_index("ix_cases_closed_at", table_name="cases")
    op.create_index("ix_cases_closed_covering", "cases", COLUMNS, sqlite_where=sa.text("closed_at IS NOT NULL"),
                    postgresql_where=sa.text("closed_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_cases_closed_covering", table_name="cases")
    op.create_index("ix_cases_closed_at", "cases", ["closed_at"], sqlite_where=sa.text("closed_at IS NOT NULL"),
                    postgresql_where=sa.text("closed_at IS NOT NULL"))
