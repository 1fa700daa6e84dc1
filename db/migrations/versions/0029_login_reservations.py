"""Sign-in attempts reserve their place before the password is checked (#28 M1)

A wrong-password count taken after bcrypt let parallel guesses through: each read "not locked" before any
had failed. An attempt now takes one of the MAX_FAILURES places in one UPDATE first; the places in flight
are `pending_logins`, freed by the attempt's outcome, or after a minute if its process died.

Revision ID: 0029
Revises: 0028
"""
from alembic import op
import sqlalchemy as sa
import db.models


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('pending_since', db.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('pending_since')
        batch_op.drop_column('pending_logins')
