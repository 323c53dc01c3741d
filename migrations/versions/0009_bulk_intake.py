"""Bulk intake of cases from CSV and XLSX exports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_case_import_batches_centre_id_centres')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_import_batches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_import_batches')),
    sa.UniqueConstraint('token', name=op.f('uq_case_import_batches_token'))
    )
    with op.batch_alter_table('case_import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_import_batches_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_import_batches_user_id'))
    op.drop_table('case_import_batches')
