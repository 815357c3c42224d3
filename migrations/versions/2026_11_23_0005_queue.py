"""Electronic queue: booking slots, far-side quotas, call counters, queue columns on declarations.

Revision ID: 0005_queue
Revises: 0003_documents
Create Date: 2026-11-23 21:25:32.958440
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_queue'
down_revision: str | None = "0004_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('call_counters',
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('called', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('gate', 'direction', 'day', name=op.f('pk_call_counters'))
    )
    op.create_table('far_side_quotas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_far_side_quotas'))
    )
    with op.batch_alter_table('far_side_quotas', schema=None) as batch_op:
        batch_op.create_index('ix_far_side_quotas_day', ['gate', 'direction', 'day', 'id'], unique=False)

    op.create_table('queue_lane_credits',
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('credits', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('gate', 'direction', name=op.f('pk_queue_lane_credits'))
    )
    op.create_table('slot_counters',
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('gate', 'direction', 'slot_start', name=op.f('pk_slot_counters'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_start', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('slot_end', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('waiting_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('called_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('queue_position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expected_call_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expected_crossing_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_declarations_gate_waiting', ['gate', 'direction', 'called_at', 'waiting_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('ix_declarations_gate_waiting')
        batch_op.drop_column('expected_crossing_at')
        batch_op.drop_column('expected_call_at')
        batch_op.drop_column('queue_position')
        batch_op.drop_column('called_at')
        batch_op.drop_column('waiting_at')
        batch_op.drop_column('slot_end')
        batch_op.drop_column('slot_start')

    op.drop_table('slot_counters')
    op.drop_table('queue_lane_credits')
    with op.batch_alter_table('far_side_quotas', schema=None) as batch_op:
        batch_op.drop_index('ix_far_side_quotas_day')

    op.drop_table('far_side_quotas')
    op.drop_table('call_counters')
