"""Sign-ins that survive a reload (web_sessions) and the user's language preference

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("lang", sa.String(length=5), nullable=False, server_default="zh"))
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen", db.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_username", "web_sessions", ["username"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_username", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("lang")
