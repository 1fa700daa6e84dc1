"""Clustered problem list (10.2.2): clusters, each case's cluster, the model that assigns new cases; a problem
may count a cluster's complaints

Revision ID: 0026
Revises: 0025
"""
from alembic import op
import sqlalchemy as sa
import db.models


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cluster_models',
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('run_at', db.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('category', name=op.f('pk_cluster_models'))
    )
    op.create_table('clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('created_at', db.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters'))
    )
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clusters_category'), ['category'], unique=False)

    op.create_table('case_clusters',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('how', sa.String(length=10), nullable=False),
    sa.Column('assigned_at', db.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_clusters_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_case_clusters_cluster_id_clusters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_clusters'))
    )
    with op.batch_alter_table('case_clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_clusters_cluster_id'), ['cluster_id'], unique=False)

    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_cluster_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_problems_scope_cluster_id_clusters'), 'clusters', ['scope_cluster_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_problems_scope_cluster_id_clusters'), type_='foreignkey')
        batch_op.drop_column('scope_cluster_id')

    with op.batch_alter_table('case_clusters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_clusters_cluster_id'))

    op.drop_table('case_clusters')
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clusters_category'))

    op.drop_table('clusters')
    op.drop_table('cluster_models')
