"""Import profiles and their versions (#21)

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_profiles")),
        sa.UniqueConstraint("name", name=op.f("uq_import_profiles_name")),
    )
    op.create_table(
        "import_profile_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_name", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=80), nullable=False),
        sa.Column("saved_at", db.models.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_profile_versions")),
        sa.UniqueConstraint("profile_name", "version", name=op.f("uq_import_profile_versions_profile_name")),
    )
    op.create_index(op.f("ix_import_profile_versions_profile_name"), "import_profile_versions", ["profile_name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_profile_versions_profile_name"), table_name="import_profile_versions")
    op.drop_table("import_profile_versions")
    op.drop_table("import_profiles")
