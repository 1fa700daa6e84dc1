"""Data verification list (10.2.2): findings of the data checks and the decisions taken on them

Revision ID: 0027
Revises: 0026
"""
from alembic import op
import sqlalchemy as sa
import db.models


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_name', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('found_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', db.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_verification_items_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_items')),
    sa.UniqueConstraint('check_name', 'key', name=op.f('uq_verification_items_check_name'))
    )
    with op.batch_alter_table('verification_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_items_check_name'), ['check_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_items_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('verification_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_items_state'))
        batch_op.drop_index(batch_op.f('ix_verification_items_check_name'))

    op.drop_table('verification_items')
