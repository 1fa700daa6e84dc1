"""Hourly deadline counts covered by one index (with the count itself), for the board's period statistics

Revision ID: 0021
Revises: 0020
"""
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

COLUMNS = ["hour", "rule_id", "state", "team_id", "category", "channel", "n"]


def upgrade() -> None:
    op.create_index("ix_deadline_hours_covering", "deadline_hours", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_deadline_hours_covering", table_name="deadline_hours")
