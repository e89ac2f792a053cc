"""declaration indexes that a review does not have to rewrite

The three indexes with `status` in their key — (status), (professional_id, status)
and (unit_id, status) — each had an entry deleted and another inserted for every
declaration a review moved: six index writes per item, 600,000 for an HR approval
of 100,000. Now:

* (professional_id) and (unit_id): a person's or a unit's declarations; a status
  change does not touch them;
* the two review queues as partial indexes on (unit_id, status, submitted_at), one
  WHERE status = 'pending_unit', one WHERE status = 'pending_hr': a review removes
  an item from its queue (and a unit approval adds it to HR's), nothing else. With
  status and submitted_at in the key, counting a queue and choosing a page of it
  in submission order read the index alone (a queue can hold a million items).

Queries on a queue name the status as a literal, which the planners need to use a
partial index (services/declarations.py, `_status_is`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

QUEUES = {"ix_declaration_awaiting_unit": "pending_unit", "ix_declaration_awaiting_hr": "pending_hr"}


def upgrade() -> None:
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_index('ix_declaration_status')
        batch_op.drop_index('ix_declaration_professional_status')
        batch_op.drop_index('ix_declaration_unit_status')
        batch_op.create_index('ix_declaration_professional_id', ['professional_id'], unique=False)
        batch_op.create_index('ix_declaration_unit_id', ['unit_id'], unique=False)
    for name, status in QUEUES.items():
        where = sa.text(f"status = '{status}'")
        op.create_index(name, 'declaration', ['unit_id', 'status', 'submitted_at'], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name in QUEUES:
        op.drop_index(name, table_name='declaration')
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_index('ix_declaration_unit_id')
        batch_op.drop_index('ix_declaration_professional_id')
        batch_op.create_index('ix_declaration_unit_status', ['unit_id', 'status'], unique=False)
        batch_op.create_index('ix_declaration_professional_status', ['professional_id', 'status'], unique=False)
        batch_op.create_index('ix_declaration_status', ['status'], unique=False)
