"""Core schema: organisations, users, declarations, cargo, stages, events, outbox.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-23 18:09:45.124771
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001_core'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('declaration_numbers',
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('gate', 'year', name=op.f('pk_declaration_numbers'))
    )
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('organisations',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_organisations'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('queue_name', sa.String(length=100), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('declaration_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publish_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['available_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL'))

    op.create_table('processed_messages',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_processed_messages'))
    )
    op.create_table('declarations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('organisation_code', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('plate_key', sa.String(length=16), nullable=False),
    sa.Column('trailer_plate', sa.String(length=16), nullable=True),
    sa.Column('vehicle_country', sa.String(length=2), nullable=False),
    sa.Column('driver_name', sa.String(length=200), nullable=False),
    sa.Column('driver_document_number', sa.String(length=20), nullable=False),
    sa.Column('driver_nationality', sa.String(length=2), nullable=False),
    sa.Column('driver_document_expiry', sa.Date(), nullable=True),
    sa.Column('consignor', sa.String(length=200), nullable=False),
    sa.Column('consignee', sa.String(length=200), nullable=False),
    sa.Column('planned_arrival', sa.DateTime(timezone=True), nullable=False),
    sa.Column('workflow', sa.Text(), nullable=False),
    sa.Column('submitted', sa.Boolean(), nullable=False),
    sa.Column('screening_round', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('yard_position', sa.String(length=32), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('departed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_code'], ['organisations.code'], name=op.f('fk_declarations_organisation_code_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declarations')),
    sa.UniqueConstraint('number', name=op.f('uq_declarations_number'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index('ix_declarations_gate_created', ['gate', 'created_at'], unique=False)
        batch_op.create_index('ix_declarations_gate_plate', ['gate', 'plate_key', 'status'], unique=False)
        batch_op.create_index('ix_declarations_gate_status', ['gate', 'status'], unique=False)
        batch_op.create_index('ix_declarations_organisation_id', ['organisation_code', 'id'], unique=False)
        batch_op.create_index('uq_declarations_yard_slot', ['gate', 'yard_position'], unique=True, postgresql_where=sa.text('yard_position IS NOT NULL AND departed_at IS NULL'), sqlite_where=sa.text('yard_position IS NOT NULL AND departed_at IS NULL'))

    op.create_table('users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('organisation_code', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_code'], ['organisations.code'], name=op.f('fk_users_organisation_code_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_code'), ['organisation_code'], unique=False)

    op.create_table('cargo_lines',
    sa.Column('declaration_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('hs_code', sa.String(length=10), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('gross_weight_kg', sa.Double(), nullable=False),
    sa.Column('packages', sa.Integer(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_cargo_lines_declaration_id_declarations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('declaration_id', 'line_no', name=op.f('pk_cargo_lines'))
    )
    op.create_table('declaration_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('declaration_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_declaration_events_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_events')),
    sa.UniqueConstraint('declaration_id', 'version', name='uq_declaration_events_version')
    )
    with op.batch_alter_table('declaration_events', schema=None) as batch_op:
        batch_op.create_index('ix_declaration_events_at', ['at'], unique=False)
    _make_events_append_only()

    op.create_table('stage_states',
    sa.Column('declaration_id', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('screened', sa.Boolean(), nullable=False),
    sa.Column('auto_approve', sa.Boolean(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('needs_attention', sa.Boolean(), nullable=False),
    sa.Column('assignee', sa.String(length=100), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_stage_states_declaration_id_declarations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('declaration_id', 'stage', name=op.f('pk_stage_states'))
    )
    with op.batch_alter_table('stage_states', schema=None) as batch_op:
        batch_op.create_index('ix_stage_states_queue', ['gate', 'stage', 'state', 'opened_at'], unique=False)

    op.create_table('user_gates',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_gates_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'gate', name=op.f('pk_user_gates'))
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS declaration_events_append_only ON declaration_events")
        op.execute("DROP FUNCTION IF EXISTS declaration_events_append_only()")
    op.drop_table('user_gates')
    with op.batch_alter_table('stage_states', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_states_queue')

    op.drop_table('stage_states')
    with op.batch_alter_table('declaration_events', schema=None) as batch_op:
        batch_op.drop_index('ix_declaration_events_at')

    op.drop_table('declaration_events')
    op.drop_table('cargo_lines')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_code'))

    op.drop_table('users')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('ix_declarations_organisation_id')
        batch_op.drop_index('uq_declarations_yard_slot', postgresql_where=sa.text('yard_position IS NOT NULL AND departed_at IS NULL'), sqlite_where=sa.text('yard_position IS NOT NULL AND departed_at IS NULL'))
        batch_op.drop_index('ix_declarations_gate_status')
        batch_op.drop_index('ix_declarations_gate_plate')
        batch_op.drop_index('ix_declarations_gate_created')

    op.drop_table('declarations')
    op.drop_table('processed_messages')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending', postgresql_where=sa.text('sent_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL'))

    op.drop_table('outbox')
    op.drop_table('organisations')
    op.drop_table('idempotency_keys')
    op.drop_table('declaration_numbers')


def _make_events_append_only() -> None:
    """The audit trail is never updated or deleted, whatever the application does."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION declaration_events_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'declaration_events is append-only';
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER declaration_events_append_only BEFORE UPDATE OR DELETE "
            "ON declaration_events FOR EACH ROW EXECUTE FUNCTION declaration_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER declaration_events_no_{verb.lower()} BEFORE {verb} "
                "ON declaration_events BEGIN SELECT RAISE(ABORT, "
                "'declaration_events is append-only'); END"
            )
