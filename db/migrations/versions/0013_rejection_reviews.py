"""Rejection reviews (7.1.2): confirmed ground or overturned, one per rejected case

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rejection_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("ground", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=80), nullable=False),
        sa.Column("reviewed_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_rejection_reviews_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["handler_id"], ["handlers.id"], name=op.f("fk_rejection_reviews_handler_id_handlers")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_rejection_reviews_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejection_reviews")),
        sa.UniqueConstraint("case_id", name=op.f("uq_rejection_reviews_case_id")),
    )
    op.create_index("ix_rejection_reviews_reviewed_at", "rejection_reviews", ["reviewed_at"])


def downgrade() -> None:
    op.drop_index("ix_rejection_reviews_reviewed_at", table_name="rejection_reviews")
    op.drop_table("rejection_reviews")
