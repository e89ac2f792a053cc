"""Set-based helpers for batches of 100,000: the rows just changed, as SQL.

A batch transition changes many rows with one conditional UPDATE … RETURNING id.
What follows from it (history events, audit rows, credit records) is then one
INSERT … SELECT per table over those ids, run inside the database, instead of
100,000 parameter sets pushed through SQLAlchemy's per-value processing (which
cost more than the database's own work). The ids travel as ONE bound JSON array,
read back as a table by `json_each` (SQLite) or `jsonb_array_elements_text`
(PostgreSQL), so there is no bind-parameter limit and no chunking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Connection

from hnce_cli.services.audit import dump
from hnce_cli.services.context import Actor

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def id_rows(conn: Connection, param: str = "ids") -> str:
    """A FROM-clause item with one column `id`: the integers bound as JSON in `:param`."""
    if conn.dialect.name == "postgresql":
        return f"(SELECT CAST(value AS BIGINT) AS id FROM jsonb_array_elements_text(CAST(:{param} AS jsonb)))"
    return f"(SELECT value AS id FROM json_each(:{param}))"


def json_table(conn: Connection, columns: Sequence[tuple[str, str]], param: str = "rows") -> str:
    """A FROM-clause item with the given (name, SQL type) columns, read from a JSON
    array of arrays bound in `:param`: many rows inserted by one INSERT … SELECT.

    Type "JSON" keeps a nested object as JSON text (for a column holding JSON), so
    it is encoded once with the whole payload, not once per row."""
    if conn.dialect.name == "postgresql":  # json, not jsonb: a nested object keeps its key order
        picked = ", ".join(f"CAST(r->{i} AS TEXT) AS {name}" if kind == "JSON" else
                           f"CAST(r->>{i} AS {kind}) AS {name}" for i, (name, kind) in enumerate(columns))
        return f"(SELECT {picked} FROM json_array_elements(CAST(:{param} AS json)) AS r)"
    picked = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, (name, _) in enumerate(columns))
    return f"(SELECT {picked} FROM json_each(:{param}))"


def text_rows(conn: Connection, param: str) -> str:
    """A FROM-clause item with one text column `value`: the strings bound as JSON in `:param`."""
    if conn.dialect.name == "postgresql":
        return f"(SELECT value FROM jsonb_array_elements_text(CAST(:{param} AS jsonb)))"
    return f"(SELECT value FROM json_each(:{param}))"


def json_ids(ids: Iterable[int]) -> str:
    return json.dumps(list(ids))


def execute(conn: Connection, sql: str, **params: Any) -> Any:
    """Run SQL written with :name parameters on the session's own DB-API cursor.

    SQLAlchemy's result objects cost more than the database for 100,000 rows, so
    this goes one level down, in the same transaction. Datetimes are converted the
    way the column type would (SQLite stores SQLAlchemy's text form). Returns the
    cursor: `.fetchall()` gives plain tuples.
    """
    dialect = conn.dialect
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)
    values = {name: processor(value) if processor and isinstance(value, datetime) else value
              for name, value in params.items()}
    if dialect.paramstyle in ("pyformat", "format"):  # psycopg: %(name)s
        sql = _NAMED.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute(sql, values)
    return cursor


def core_rows(conn: Connection, statement: Any) -> list[tuple]:
    """Run a Core statement (built with its scope as usual) on the DB-API cursor and
    return plain tuples: for 100,000 rows RETURNING, SQLAlchemy's Row objects cost
    more than the driver's own fetch. IN lists are rendered as separate parameters;
    datetimes are converted as in `execute`."""
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)
    values = {name: processor(value) if processor and isinstance(value, datetime) else value
              for name, value in compiled.construct_params().items()}
    cursor = conn.connection.dbapi_connection.cursor()
    if compiled.positiontup is not None:  # SQLite: qmark
        cursor.execute(str(compiled), [values[name] for name in compiled.positiontup])
    else:
        cursor.execute(str(compiled), values)
    return cursor.fetchall()


def audit_for_ids(conn: Connection, actor: Actor | None, action: str, subject_type: str, ids: Sequence[int],
                  before: dict[str, Any] | None, after: dict[str, Any] | None, at: Any) -> int:
    """One audit row per id (who, when, before, after), in one INSERT … SELECT."""
    if not ids:
        return 0
    execute(conn, "INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
            f"SELECT :at, :actor, :action, :subject_type, CAST(x.id AS VARCHAR(64)), :before, :after "
            f"FROM {id_rows(conn)} AS x",
            at=at, actor=actor.account_id if actor else None, action=action, subject_type=subject_type,
            before=dump(before), after=dump(after), ids=json_ids(ids))
    return len(ids)
