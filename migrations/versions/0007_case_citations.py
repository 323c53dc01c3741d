"""Statute citations pinned to cases.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_citations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('law_title', sa.String(length=255), nullable=False),
    sa.Column('article_number', sa.Integer(), nullable=False),
    sa.Column('article_label', sa.String(length=32), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('pinned_by_id', sa.Integer(), nullable=True),
    sa.Column('pinned_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_case_citations_article_id_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_citations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pinned_by_id'], ['users.id'], name=op.f('fk_case_citations_pinned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_citations')),
    sa.UniqueConstraint('case_id', 'law_title', 'article_number', name='uq_case_citations_case_law_article')
    )
    with op.batch_alter_table('case_citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_citations_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_citations_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_citations_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_citations_article_id'))
    op.drop_table('case_citations')
