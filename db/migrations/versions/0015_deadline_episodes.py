"""Deadline episodes for replaying the board at a past instant, filled from every case

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LATE = ("open_until", "due_at", "active_from", "rule_id", "team_id", "handler_id", "category", "channel")
RISK = ("due_at", "warn_at", "pending_until", "active_from", "rule_id", "team_id", "handler_id", "category", "channel")
ARCHIVE = ("pending_until", "active_from", "team_id", "handler_id", "category", "channel")


def upgrade() -> None:
    op.create_table(
        "deadline_episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("active_from", db.models.UTCDateTime(), nullable=False),
        sa.Column("due_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("warn_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("pending_until", db.models.UTCDateTime(), nullable=False),
        sa.Column("open_until", db.models.UTCDateTime(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_deadline_episodes_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_episodes")),
    )
    # Fill from the cases already stored, with the thresholds in force (in chunks: a million cases fit).
    from sqlalchemy.orm import Session

    from db.obligations import load_cases, store_episodes, thresholds

    session = Session(bind=op.get_bind())
    th = thresholds(session)
    ids = [r[0] for r in session.execute(sa.text("SELECT id FROM cases ORDER BY id"))]
    for start in range(0, len(ids), 20000):
        cases = load_cases(session, ids[start:start + 20000])
        store_episodes(session, cases, th)
    session.flush()
    op.create_index("ix_deadline_episodes_case", "deadline_episodes", ["case_id"])
    op.create_index("ix_deadline_episodes_late", "deadline_episodes", list(LATE),
                    sqlite_where=sa.text("open_until > due_at"), postgresql_where=sa.text("open_until > due_at"))
    op.create_index("ix_deadline_episodes_risk", "deadline_episodes", list(RISK),
                    sqlite_where=sa.text("pending_until > warn_at"), postgresql_where=sa.text("pending_until > warn_at"))
    op.create_index("ix_deadline_episodes_archive", "deadline_episodes", list(ARCHIVE),
                    sqlite_where=sa.text("rule_id = 'ARC-ARCHIVE'"), postgresql_where=sa.text("rule_id = 'ARC-ARCHIVE'"))


def downgrade() -> None:
    op.drop_index("ix_deadline_episodes_archive", table_name="deadline_episodes")
    op.drop_index("ix_deadline_episodes_risk", table_name="deadline_episodes")
    op.drop_index("ix_deadline_episodes_late", table_name="deadline_episodes")
    op.drop_index("ix_deadline_episodes_case", table_name="deadline_episodes")
    op.drop_table("deadline_episodes")
