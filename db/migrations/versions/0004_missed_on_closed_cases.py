"""Store deadlines missed on already-closed cases as breached; index for per-rule range counts

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Same rule as db.obligations._state, for obligations evaluated before this revision.
    op.execute(
        "UPDATE obligations SET state = 'breached' WHERE state = 'open' AND due_at < evaluated_at "
        "AND rule_id <> 'ARC-ARCHIVE' AND case_closed_at IS NOT NULL AND case_closed_at <= evaluated_at"
    )
    op.create_index("ix_obligations_state_due_rule", "obligations", ["state", "due_at", "rule_id"])
    op.drop_index("ix_obligations_state_due", table_name="obligations")


def downgrade() -> None:
    op.create_index("ix_obligations_state_due", "obligations", ["state", "due_at"])
    op.drop_index("ix_obligations_state_due_rule", table_name="obligations")
