"""Coaching sessions for handlers, with action items; closing one records a training session

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coaching_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("case_nos", sa.Text(), nullable=False),
        sa.Column("source_assessment_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("closed_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("training_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["handler_id"], ["handlers.id"], name=op.f("fk_coaching_sessions_handler_id_handlers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_assessment_id"], ["assessments.id"],
                                name=op.f("fk_coaching_sessions_source_assessment_id_assessments"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["training_id"], ["training_sessions.id"],
                                name=op.f("fk_coaching_sessions_training_id_training_sessions"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_sessions")),
    )
    op.create_index("ix_coaching_sessions_handler_id", "coaching_sessions", ["handler_id"])
    op.create_table(
        "coaching_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coaching_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("done_at", db.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["coaching_id"], ["coaching_sessions.id"],
                                name=op.f("fk_coaching_actions_coaching_id_coaching_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_actions")),
    )
    op.create_index("ix_coaching_actions_coaching_id", "coaching_actions", ["coaching_id"])


def downgrade() -> None:
    op.drop_index("ix_coaching_actions_coaching_id", table_name="coaching_actions")
    op.drop_table("coaching_actions")
    op.drop_index("ix_coaching_sessions_handler_id", table_name="coaching_sessions")
    op.drop_table("coaching_sessions")
