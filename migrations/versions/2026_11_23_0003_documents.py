"""Documents: signed PDFs issued for declarations, their status and their bytes.

Revision ID: 0003_documents
Revises: 0002_screening
Create Date: 2026-11-23 19:41:19.517631
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_documents'
down_revision: str | None = '0002_screening'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('declaration_id', sa.String(length=36), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage', sa.String(length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=100), nullable=False),
    sa.Column('declaration_version', sa.Integer(), nullable=True),
    sa.Column('declaration_number', sa.String(length=40), nullable=True),
    sa.Column('plate', sa.String(length=16), nullable=True),
    sa.Column('gate', sa.String(length=32), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('superseded_by', sa.String(length=36), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_documents_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_declaration', ['declaration_id', 'kind', 'stage', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)

    op.create_table('document_blobs',
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_blobs_document_id_documents')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_document_blobs'))
    )


def downgrade() -> None:
    op.drop_table('document_blobs')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))
        batch_op.drop_index('ix_documents_declaration')

    op.drop_table('documents')
