"""Issued documents (PDF): immutable versions with fingerprints.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('case_party_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('short_code', sa.String(length=16), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_issued_documents_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_party_id'], ['case_parties.id'], name=op.f('fk_issued_documents_case_party_id_case_parties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_issued_documents_issued_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_documents')),
    sa.UniqueConstraint('case_id', 'kind', 'case_party_id', 'version', name='uq_issued_documents_version'),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_issued_documents_fingerprint')),
    sa.UniqueConstraint('short_code', name=op.f('uq_issued_documents_short_code'))
    )
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_documents_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_issued_documents_case_id'))
    op.drop_table('issued_documents')
