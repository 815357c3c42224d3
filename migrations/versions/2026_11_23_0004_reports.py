"""Reports: rollup tables (stage visits, journeys, hourly counts) kept by each transition.

Revision ID: 0004_reports
Revises: 0003_documents
Create Date: 2026-11-23 21:30:00

Existing declarations are not folded in here (that can take long on a large trail): run
`border-gate reports rebuild` once after upgrading a database that already has traffic.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reports"
down_revision: str | None = "0003_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_stage_visits",
        sa.Column("declaration_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("opened_version", sa.Integer(), nullable=False),
        sa.Column("gate", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("total_seconds", sa.Double(), nullable=True),
        sa.Column("waiting_seconds", sa.Double(), nullable=True),
        sa.Column("working_seconds", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint(
            "declaration_id", "stage", "opened_version", name=op.f("pk_report_stage_visits")
        ),
    )
    with op.batch_alter_table("report_stage_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_stage_visits_gate_closed", ["gate", "closed_at"], unique=False
        )
        batch_op.create_index(
            "ix_report_stage_visits_open",
            ["gate", "stage"],
            unique=False,
            postgresql_where=sa.text("closed_at IS NULL"),
            sqlite_where=sa.text("closed_at IS NULL"),
        )

    op.create_table(
        "report_journeys",
        sa.Column("declaration_id", sa.String(length=36), nullable=False),
        sa.Column("gate", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("declaration_id", name=op.f("pk_report_journeys")),
    )
    with op.batch_alter_table("report_journeys", schema=None) as batch_op:
        batch_op.create_index("ix_report_journeys_gate_left", ["gate", "left_at"], unique=False)
        batch_op.create_index(
            "ix_report_journeys_in_yard",
            ["gate", "arrived_at"],
            unique=False,
            postgresql_where=sa.text("arrived_at IS NOT NULL AND left_at IS NULL"),
            sqlite_where=sa.text("arrived_at IS NOT NULL AND left_at IS NULL"),
        )

    op.create_table(
        "report_hourly_counts",
        sa.Column("gate", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "gate", "hour", "direction", "metric", name=op.f("pk_report_hourly_counts")
        ),
    )


def downgrade() -> None:
    op.drop_table("report_hourly_counts")
    with op.batch_alter_table("report_journeys", schema=None) as batch_op:
        batch_op.drop_index("ix_report_journeys_in_yard")
        batch_op.drop_index("ix_report_journeys_gate_left")
    op.drop_table("report_journeys")
    with op.batch_alter_table("report_stage_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_report_stage_visits_open")
        batch_op.drop_index("ix_report_stage_visits_gate_closed")
    op.drop_table("report_stage_visits")
