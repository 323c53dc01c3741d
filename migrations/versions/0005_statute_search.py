"""Statute search: one row of search tokens per article.

The full-text structure over `tokens` (an FTS5 table on SQLite, a GIN index on
to_tsvector('simple', tokens) on PostgreSQL) is created by statutes.search.ensure_search_index()
when articles are indexed, so the migrated schema stays identical to the models.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:52:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article_search',
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('law_id', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_search_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_search'))
    )
    with op.batch_alter_table('article_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_search_law_id'), ['law_id'], unique=False)


def downgrade():
    bind = op.get_bind()
    op.execute('DROP TABLE IF EXISTS article_search_meta')
    if bind.dialect.name == 'sqlite':
        op.execute('DROP TABLE IF EXISTS article_search_fts')
    else:
        op.execute('DROP INDEX IF EXISTS ix_article_search_tsv')
    with op.batch_alter_table('article_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_search_law_id'))
    op.drop_table('article_search')
