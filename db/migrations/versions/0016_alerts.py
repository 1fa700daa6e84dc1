"""Alert policies (versioned) and the alert outbox

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_policies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_alert_policies")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_no", sa.String(length=64), nullable=True),
        sa.Column("rule_id", sa.String(length=40), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("due_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("fire_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("sent_at", db.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
    )
    op.create_index("ix_alerts_status_next", "alerts", ["status", "next_attempt_at"])
    op.create_index("ix_alerts_created", "alerts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_created", table_name="alerts")
    op.drop_index("ix_alerts_status_next", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_policies")
