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
    pass


def downgrade():
    pass
