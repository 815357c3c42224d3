"""Screening: the border guard's watchlist and automated checks that need attention.

Revision ID: 0002_screening
Revises: 0001_core
Create Date: 2026-11-23 18:22:02.949433
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002_screening'
down_revision: str | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('check_failures',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('work_id', sa.String(length=36), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('queue_name', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('declaration_id', sa.String(length=36), nullable=True),
    sa.Column('agency', sa.String(length=40), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retried_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_failures'))
    )
    with op.batch_alter_table('check_failures', schema=None) as batch_op:
        batch_op.create_index('ix_check_failures_status', ['status', 'failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_failures_work_id'), ['work_id'], unique=False)

    op.create_table('watchlist_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('value_key', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=100), nullable=True),
    sa.Column('removal_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watchlist_entries'))
    )
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_watchlist_entries_key', ['kind', 'value_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_watchlist_entries_key')

    op.drop_table('watchlist_entries')
    with op.batch_alter_table('check_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_failures_work_id'))
        batch_op.drop_index('ix_check_failures_status')

    op.drop_table('check_failures')
