"""Handlers acknowledge or dispute assessments: acknowledgement time, disputes, earlier versions kept

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("acknowledged_at", db.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("scorecards") as batch:
        batch.add_column(sa.Column("dispute_hours", sa.Float(), nullable=False, server_default="72"))
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("score_before", sa.Float(), nullable=True),
        sa.Column("score_after", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"],
                                name=op.f("fk_disputes_assessment_id_assessments"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index("ix_disputes_assessment_id", "disputes", ["assessment_id"])
    op.create_index("ix_disputes_status_opened", "disputes", ["status", "opened_at"])
    op.create_table(
        "assessment_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("replaced_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"],
                                name=op.f("fk_assessment_versions_assessment_id_assessments"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_versions")),
    )
    op.create_index("ix_assessment_versions_assessment_id", "assessment_versions", ["assessment_id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_versions_assessment_id", table_name="assessment_versions")
    op.drop_table("assessment_versions")
    op.drop_index("ix_disputes_status_opened", table_name="disputes")
    op.drop_index("ix_disputes_assessment_id", table_name="disputes")
    op.drop_table("disputes")
    with op.batch_alter_table("scorecards") as batch:
        batch.drop_column("dispute_hours")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("acknowledged_at")
