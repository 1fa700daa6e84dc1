"""Make the closing-time index partial (closed cases only)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_closed_at", table_name="cases")
    op.create_index("ix_cases_closed_at", "cases", ["closed_at"], sqlite_where=sa.text("closed_at IS NOT NULL"),
                    postgresql_where=sa.text("closed_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_cases_closed_at", table_name="cases")
    op.create_index("ix_cases_closed_at", "cases", ["closed_at"])
