"""drop ix_audit_log_at: no query reads the audit log by time

The audit log is read by subject (a declaration's review history, through
ix_audit_subject), never by time; its rows are appended in time order, so the id
orders them as well. The index cost every audited change one more entry: 100,000
for an HR approval of 100,000 declarations, about 1,000 pages.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:00:00
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
