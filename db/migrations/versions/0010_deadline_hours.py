"""Hourly counts of deadline obligations for the board's period statistics, filled from the obligations

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadline_hours",
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "rule_id", "state", "team_id", "category", "channel",
                                name=op.f("pk_deadline_hours")),
    )
    if op.get_bind().dialect.name == "postgresql":
        hour = "CAST(floor(extract(epoch from due_at) / 3600) AS INTEGER)"
    else:
        hour = "CAST(strftime('%s', due_at) AS INTEGER) / 3600"
    op.execute(
        "INSERT INTO deadline_hours (hour, rule_id, state, team_id, category, channel, n) "
        f"SELECT {hour}, rule_id, state, coalesce(team_id, 0), coalesce(category, ''), coalesce(channel, ''), count(*) "
        "FROM obligations WHERE due_at IS NOT NULL "
        f"GROUP BY {hour}, rule_id, state, coalesce(team_id, 0), coalesce(category, ''), coalesce(channel, '')")


def downgrade() -> None:
    op.drop_table("deadline_hours")
