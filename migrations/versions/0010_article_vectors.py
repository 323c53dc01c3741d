"""Semantic statute search: one vector per article of the laws most disputes turn on.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article_vectors',
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_vectors_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_vectors'))
    )


def downgrade():
    op.drop_table('article_vectors')
