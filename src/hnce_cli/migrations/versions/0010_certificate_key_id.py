"""certificate.key_id: the key that signed each certificate

One deployment signs with one key; a host that holds another must say so rather than
call a genuine certificate altered, and a rotation keeps the old key by its id so that
what it signed still verifies (docs/deploy.md, "The certificate key").

Existing certificates get the id of the key their code verifies under, among the keys
the process running `hnce db upgrade` holds (HNCE_CERT_KEY or <data dir>/certificate.key,
and HNCE_CERT_OLD_KEYS); read in batches by id. Those no key held here verifies keep
NULL (legacy): they are verified by trying every key a host holds. No key is created here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 15:00:00
"""

import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """key_id for the rows whose code verifies under a key held by this process."""
    from hnce_cli.certificates.facts import content
    from hnce_cli.certificates.signing import load_ring, verify

    try:
        keys = load_ring().keys
    except ValueError:  # a key configured but unusable: the rows stay legacy, the services say why
        return
    if not keys:
        return
    read = sa.text("SELECT id, code, content FROM certificate WHERE id > :last ORDER BY id LIMIT :n")
    update = sa.text("UPDATE certificate SET key_id = :kid WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    last = 0
    while True:
        rows = conn.execute(read, {"last": last, "n": BATCH}).all()
        if not rows:
            return
        signed: dict[str, list[int]] = defaultdict(list)
        for cid, code, stored in rows:
            try:
                facts = content(json.loads(stored))
            except (ValueError, KeyError, TypeError):  # a damaged record: left for verification to call altered
                continue
            kid = next((kid for kid, key in keys.items() if verify(code, facts, key)), None)
            if kid is not None:
                signed[kid].append(cid)
        for kid, ids in signed.items():
            conn.execute(update, {"kid": kid, "ids": ids})
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('key_id')
