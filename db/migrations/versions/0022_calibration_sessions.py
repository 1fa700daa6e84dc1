"""Blind calibration sessions: lead, deadline, spread threshold, closing; consensus answers

Calibration samples drawn before this revision were never blind (their answers were shown as they came
in): each gets a session already closed at its drawing time.

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibration_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.String(length=80), nullable=False),
        sa.Column("deadline", db.models.UTCDateTime(), nullable=False),
        sa.Column("variance_threshold", sa.Float(), nullable=False),
        sa.Column("closed_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["sampling_plans.id"],
                                name=op.f("fk_calibration_sessions_plan_id_sampling_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_sessions")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_calibration_sessions_plan_id")),
    )
    op.create_table(
        "calibration_consensus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=40), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", db.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["calibration_sessions.id"],
                                name=op.f("fk_calibration_consensus_session_id_calibration_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_calibration_consensus_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_consensus")),
        sa.UniqueConstraint("session_id", "case_id", "item_key", name="uq_calibration_consensus_answer"),
    )
    op.create_index("ix_calibration_consensus_session_id", "calibration_consensus", ["session_id"])
    op.execute("INSERT INTO calibration_sessions (plan_id, lead, deadline, variance_threshold, closed_at, closed_by) "
               "SELECT id, created_by, drawn_at, 0.1, drawn_at, 'system' FROM sampling_plans "
               "WHERE purpose = 'calibration'")


def downgrade() -> None:
    op.drop_index("ix_calibration_consensus_session_id", table_name="calibration_consensus")
    op.drop_table("calibration_consensus")
    op.drop_table("calibration_sessions")
