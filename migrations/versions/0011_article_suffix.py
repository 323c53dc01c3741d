"""Articles inserted by amendment (第十七条之一): a suffix beside the number, in articles and in
the citations pinned to cases.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suffix', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('case_citations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_suffix', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.drop_constraint('uq_case_citations_case_law_article', type_='unique')
        batch_op.create_unique_constraint(
            'uq_case_citations_case_law_article',
            ['case_id', 'law_title', 'article_number', 'article_suffix'])


def downgrade():
    with op.batch_alter_table('case_citations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_case_citations_case_law_article', type_='unique')
        batch_op.create_unique_constraint('uq_case_citations_case_law_article',
                                          ['case_id', 'law_title', 'article_number'])
        batch_op.drop_column('article_suffix')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('suffix')
