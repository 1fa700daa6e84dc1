"""Typical-case library marks with history, and training sessions (6.2, 10.1.2)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "typical_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("lesson", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("clauses", sa.Text(), nullable=False),
        sa.Column("example", sa.String(length=4), nullable=True),
        sa.Column("marked_by", sa.String(length=80), nullable=False),
        sa.Column("marked_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("ended_by", sa.String(length=80), nullable=True),
        sa.Column("ended_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("library_text", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_typical_marks_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_typical_marks")),
    )
    op.create_index("ix_typical_marks_case_id", "typical_marks", ["case_id"])
    op.create_index("ix_typical_marks_active_case", "typical_marks", ["active", "case_id"])
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("trainer", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("case_nos", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    op.create_index("ix_training_sessions_held_at", "training_sessions", ["held_at"])


def downgrade() -> None:
    op.drop_table("training_sessions")
    op.drop_table("typical_marks")
