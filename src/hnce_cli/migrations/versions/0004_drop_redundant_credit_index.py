"""drop ix_credit_record_year_professional: a prefix of ix_credit_record_completion

Every query that could use (year, professional_id) uses the covering
(year, professional_id, subject, credits) index of 0003 instead, and each credit
record written (an HR approval of 100,000 declarations writes 100,000) paid for
one more index entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:30:00
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credit_record', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_record_year_professional')


def downgrade() -> None:
    with op.batch_alter_table('credit_record', schema=None) as batch_op:
        batch_op.create_index('ix_credit_record_year_professional', ['year', 'professional_id'],
                              unique=False)
