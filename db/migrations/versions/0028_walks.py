"""End-to-end walks (全流程穿越, 10.2.2): a case walked through the handling flow, step by step

Revision ID: 0028
Revises: 0027
"""
from alembic import op
import sqlalchemy as sa
import db.models


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('walks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('walker', sa.String(length=80), nullable=False),
    sa.Column('walked_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_walks_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['problems.id'], name=op.f('fk_walks_problem_id_problems'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walks'))
    )
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walks_case_id'), ['case_id'], unique=False)

    op.create_table('walk_steps',
    sa.Column('walk_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=30), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['walk_id'], ['walks.id'], name=op.f('fk_walk_steps_walk_id_walks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('walk_id', 'step', name=op.f('pk_walk_steps'))
    )


def downgrade() -> None:
    op.drop_table('walk_steps')
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walks_case_id'))

    op.drop_table('walks')
