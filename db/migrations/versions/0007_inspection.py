"""Quality inspection: scorecards (versioned), sampling plans, sample items, assessments (6.3)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
        sa.UniqueConstraint("name", "version", name="uq_scorecards_name_version"),
    )
    op.create_table(
        "sampling_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("drawn_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["scorecard_id"], ["scorecards.id"],
                                name=op.f("fk_sampling_plans_scorecard_id_scorecards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sampling_plans")),
    )
    op.create_table(
        "sample_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(length=80), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_sample_items_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["sampling_plans.id"],
                                name=op.f("fk_sample_items_plan_id_sampling_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_items")),
        sa.UniqueConstraint("plan_id", "case_id", "assignee", name="uq_sample_items_plan_case_assignee"),
    )
    op.create_index("ix_sample_items_plan_id", "sample_items", ["plan_id"])
    op.create_index("ix_sample_items_case_id", "sample_items", ["case_id"])
    op.create_index("ix_sample_items_assignee", "sample_items", ["assignee"])
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_item_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("inspector", sa.String(length=80), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("assessed_at", db.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_assessments_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sample_item_id"], ["sample_items.id"],
                                name=op.f("fk_assessments_sample_item_id_sample_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scorecard_id"], ["scorecards.id"],
                                name=op.f("fk_assessments_scorecard_id_scorecards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("sample_item_id", name=op.f("uq_assessments_sample_item_id")),
    )
    op.create_index("ix_assessments_case_id", "assessments", ["case_id"])
    op.create_index("ix_assessments_handler_id", "assessments", ["handler_id"])
    op.create_index("ix_assessments_assessed_at", "assessments", ["assessed_at"])
    op.create_table(
        "assessment_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=40), nullable=False),
        sa.Column("clause", sa.String(length=40), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("engine_verdict", sa.String(length=10), nullable=True),
        sa.Column("engine_evidence", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"],
                                name=op.f("fk_assessment_items_assessment_id_assessments"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_items")),
        sa.UniqueConstraint("assessment_id", "item_key", name="uq_assessment_items_assessment_item"),
    )


def downgrade() -> None:
    for table in ("assessment_items", "assessments", "sample_items", "sampling_plans", "scorecards"):
        op.drop_table(table)
