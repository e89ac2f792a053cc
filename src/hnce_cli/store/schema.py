"""Is the database at this hnce's schema? Checked once per database per process with the
plain driver; only when it is not does SQLAlchemy load, to migrate (a fresh or older
SQLite file) or to refuse with the operator's fix (`hnce db upgrade`, see db.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hnce_cli.store import Target

# The newest Alembic revision; a test checks it against the migrations folder.
HEAD_REVISION = "0007"


def revision_of(conn: Any, dialect: str) -> str | None:
    """The Alembic revision a connection's database is at; None for an empty database."""
    from hnce_cli.store import _translate, driver_errors

    cursor = conn.cursor()
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
        row = cursor.fetchone()
    except driver_errors(dialect) as exc:
        message = str(exc).lower()
        if "alembic_version" in message and ("no such table" in message or "does not exist" in message):
            if hasattr(conn, "rollback") and not getattr(conn, "autocommit", True):
                conn.rollback()
            return None
        raise _translate(exc) from exc
    finally:
        cursor.close()
    return row[0] if row else None


def at_head(t: Target, pool: Any) -> bool:
    """Whether the database is at this hnce's schema (False: a missing file, an empty or an
    older or newer database — store.migrate decides what then)."""
    from hnce_cli.store import SQLITE

    if t.dialect != SQLITE or (t.sqlite_file is not None and t.sqlite_file.exists()):
        conn, _ = pool.get()
        try:
            revision = revision_of(conn, t.dialect)
        except BaseException:
            pool.drop(conn)
            raise
        pool.put(conn)
        return revision == HEAD_REVISION
    return False
