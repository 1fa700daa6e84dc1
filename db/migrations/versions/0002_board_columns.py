"""Copy team, handler, category, channel and closing time onto obligations for the live board

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("handler_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("category", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("case_closed_at", db.models.UTCDateTime(), nullable=True))
    # Fill the new columns from the cases for obligations evaluated before this revision.
    op.execute(
        "UPDATE obligations SET "
        "team_id = (SELECT team_id FROM cases WHERE cases.id = obligations.case_id), "
        "handler_id = (SELECT handler_id FROM cases WHERE cases.id = obligations.case_id), "
        "category = (SELECT category FROM cases WHERE cases.id = obligations.case_id), "
        "channel = (SELECT channel FROM cases WHERE cases.id = obligations.case_id), "
        "case_closed_at = (SELECT closed_at FROM cases WHERE cases.id = obligations.case_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        for name in ("case_closed_at", "channel", "category", "handler_id", "team_id"):
            batch.drop_column(name)
