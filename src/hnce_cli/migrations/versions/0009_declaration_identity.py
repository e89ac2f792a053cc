"""declaration.fingerprint and declaration.import_key: a declaration is made once

A desk that runs `hnce declare import` again after a time-out, or after a kill that
landed just after COMMIT, must not double anyone's credits. Two columns:

* fingerprint: SHA-256 of the person's ID number, the form, the counted year and the
  answers as sorted JSON — what makes two declarations the same. Computed here for
  every existing declaration (in batches, by id), indexed (not unique: a genuinely
  repeated activity may be declared again on purpose, and a rejected one re-declared).
* import_key: the identity of the import row a declaration came from ("ref:<unit
  id>:<申报编号>" or "fp:<fingerprint>"), under a unique index, so that an import run
  twice, or twice at once, writes each row once.

Existing declarations keep import_key NULL (NULLs never collide in a unique index), so
exact duplicates already in a database — imported twice before this release — cannot
fail the migration; they are left as they are (nothing is deleted or decided here) and
share one fingerprint, by which a re-run finds them (docs/declarations.md says how to
list them).

The fingerprint's definition is frozen here as it was at this revision; the service's
(services/declarations.py, `fingerprint`) must give the same value, which a test holds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 10:00:00
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 20_000


def fingerprint(id_number: str, form_code: str, year: int, answers: dict) -> str:
    """The fingerprint of a declaration, as this revision defines it."""
    canonical = json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{id_number}\x1f{form_code}\x1f{year}\x1f{canonical}".encode()).hexdigest()


def upgrade() -> None:
    op.add_column('declaration', sa.Column('fingerprint', sa.String(length=64), nullable=True))
    op.add_column('declaration', sa.Column('import_key', sa.String(length=100), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        update = sa.text(
            "UPDATE declaration AS d SET fingerprint = v.fp FROM (SELECT CAST(r->>0 AS BIGINT) AS id, "
            "r->>1 AS fp FROM json_array_elements(CAST(:rows AS json)) AS r) AS v WHERE d.id = v.id")
    else:
        update = sa.text(
            "UPDATE declaration SET fingerprint = v.fp FROM (SELECT json_extract(value, '$[0]') AS id, "
            "json_extract(value, '$[1]') AS fp FROM json_each(:rows)) AS v WHERE declaration.id = v.id")
    read = sa.text("SELECT d.id, p.id_number, d.form_code, d.year, d.fields FROM declaration d "
                   "JOIN professional p ON p.id = d.professional_id WHERE d.id > :after ORDER BY d.id LIMIT :n")
    after = 0
    while rows := bind.execute(read, {"after": after, "n": BATCH}).fetchall():
        done = [(did, fingerprint(number, form, year, json.loads(fields)))
                for did, number, form, year, fields in rows]
        bind.execute(update, {"rows": json.dumps(done)})
        after = rows[-1][0]
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.create_index('ix_declaration_fingerprint', ['fingerprint'], unique=False)
        batch_op.create_index('uq_declaration_import_key', ['import_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_index('uq_declaration_import_key')
        batch_op.drop_index('ix_declaration_fingerprint')
        batch_op.drop_column('import_key')
        batch_op.drop_column('fingerprint')
