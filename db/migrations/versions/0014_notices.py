"""督办 notices to handlers, and handler accounts linked to the handlers of the imported cases

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("handler_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_users_handler_id_handlers"), "handlers", ["handler_id"], ["id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reply_by", db.models.UTCDateTime(), nullable=False),
        sa.Column("sent_by", sa.String(length=80), nullable=False),
        sa.Column("sent_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("answered_at", db.models.UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("contacted_at", db.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notices_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["handler_id"], ["handlers.id"], name=op.f("fk_notices_handler_id_handlers")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_notices_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_handler_answered", "notices", ["handler_id", "answered_at"])
    op.create_index("ix_notices_case", "notices", ["case_id"])
    op.create_index("ix_notices_open_reply_by", "notices", ["reply_by"], sqlite_where=sa.text("answered_at IS NULL"),
                    postgresql_where=sa.text("answered_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_notices_open_reply_by", table_name="notices")
    op.drop_index("ix_notices_case", table_name="notices")
    op.drop_index("ix_notices_handler_answered", table_name="notices")
    op.drop_table("notices")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("fk_users_handler_id_handlers"), type_="foreignkey")
        batch.drop_column("handler_id")
