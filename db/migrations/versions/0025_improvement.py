"""Improvement loop (10.2): customer keys for repeat complaints, the problem register with its linked cases,
actions and effectiveness checks

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa
import db.models


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('scope_category', sa.String(length=20), nullable=True),
    sa.Column('scope_subcategories', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('cause_category', sa.String(length=30), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=True),
    sa.Column('whys', sa.Text(), nullable=False),
    sa.Column('fixed_at', db.models.UTCDateTime(), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problems'))
    )
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problems_state'), ['state'], unique=False)

    op.create_table('problem_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('due_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('done_at', db.models.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', db.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problems.id'], name=op.f('fk_problem_actions_problem_id_problems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_actions'))
    )
    with op.batch_alter_table('problem_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_actions_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_actions_problem_id'), ['problem_id'], unique=False)

    op.create_table('problem_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('fixed_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.Column('before_count', sa.Integer(), nullable=False),
    sa.Column('after_count', sa.Integer(), nullable=False),
    sa.Column('before_exposure', sa.Float(), nullable=False),
    sa.Column('after_exposure', sa.Float(), nullable=False),
    sa.Column('ratio', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('checked_by', sa.String(length=80), nullable=False),
    sa.Column('checked_at', db.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problems.id'], name=op.f('fk_problem_checks_problem_id_problems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_checks'))
    )
    with op.batch_alter_table('problem_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_checks_problem_id'), ['problem_id'], unique=False)

    op.create_table('customer_keys',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('customer_key', sa.String(length=32), nullable=True),
    sa.Column('keyed_at', db.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_customer_keys_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_customer_keys'))
    )
    with op.batch_alter_table('customer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_keys_customer_key'), ['customer_key'], unique=False)

    op.create_table('problem_cases',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.Column('added_at', db.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_problem_cases_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['problems.id'], name=op.f('fk_problem_cases_problem_id_problems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('problem_id', 'case_id', name=op.f('pk_problem_cases'))
    )
    with op.batch_alter_table('problem_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_cases_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('problem_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_cases_case_id'))

    op.drop_table('problem_cases')
    with op.batch_alter_table('customer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_keys_customer_key'))

    op.drop_table('customer_keys')
    with op.batch_alter_table('problem_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_checks_problem_id'))

    op.drop_table('problem_checks')
    with op.batch_alter_table('problem_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_actions_problem_id'))
        batch_op.drop_index(batch_op.f('ix_problem_actions_due_at'))

    op.drop_table('problem_actions')
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problems_state'))

    op.drop_table('problems')
