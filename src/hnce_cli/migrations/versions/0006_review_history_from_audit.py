"""the review history is read from the audit log: drop declaration_event

Every transition of a declaration wrote two records, an audit row and a
declaration_event row with the same actor, time and action. The history a
declarant sees is now read from the audit rows (services/declarations.py,
`_history`), so a transition writes one record: an HR approval of 100,000
declarations inserts 100,000 rows fewer.

Before the table goes, any event without its audit row (none is expected: hnce
always wrote both) is copied into the audit log, so no history is lost.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    reason = ("CASE WHEN e.reason IS NULL THEN NULL ELSE json_build_object('reason', e.reason)::text END"
              if postgres else
              "CASE WHEN e.reason IS NULL THEN NULL ELSE json_object('reason', e.reason) END")
    op.execute(
        "INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
        f"SELECT e.at, e.actor_id, 'declaration.' || e.action, 'declaration', "
        f"CAST(e.declaration_id AS VARCHAR(64)), NULL, {reason} FROM declaration_event e "
        "WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.subject_type = 'declaration' "
        "AND a.subject_id = CAST(e.declaration_id AS VARCHAR(64)) AND a.action = 'declaration.' || e.action) "
        "ORDER BY e.id")
    with op.batch_alter_table('declaration_event', schema=None) as batch_op:
        batch_op.drop_index('ix_declaration_event_declaration_id')
    op.drop_table('declaration_event')


def downgrade() -> None:
    op.create_table(
        'declaration_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('declaration_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['account.id'], ),
        sa.ForeignKeyConstraint(['declaration_id'], ['declaration.id'], ),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('declaration_event', schema=None) as batch_op:
        batch_op.create_index('ix_declaration_event_declaration_id', ['declaration_id'], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    reason = "CAST(a.after AS json) ->> 'reason'" if postgres else "json_extract(a.after, '$.reason')"
    op.execute(
        "INSERT INTO declaration_event (declaration_id, at, actor_id, action, reason) "
        f"SELECT d.id, a.at, a.actor_id, substr(a.action, 13), {reason} FROM audit_log a "
        "JOIN declaration d ON CAST(d.id AS VARCHAR(64)) = a.subject_id "
        "WHERE a.subject_type = 'declaration' AND a.action <> 'declaration.delete' "
        "AND a.id > coalesce((SELECT max(g.id) FROM audit_log g WHERE g.subject_type = 'declaration' "
        "AND g.subject_id = a.subject_id AND g.action = 'declaration.delete'), 0) ORDER BY a.at, a.id")
