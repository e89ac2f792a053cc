"""Is the database at this hnce's schema? Checked once per database per process with the
plain driver; only when it is not does SQLAlchemy load, to migrate (a fresh or older
SQLite file) or to refuse with the operator's fix (`hnce db upgrade`, see db.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hnce_cli.store import Target

# The newest Alembic revision; a test checks it against the migrations folder.
HEAD_REVISION = "0010"


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
        size = None if t.sqlite_file is None else t.sqlite_file.stat().st_size
        if size == 0:  # refused before a connection writes SQLite's header into it
            _refuse_unmigrated_file(t, size)
        conn, _ = pool.get()
        try:
            revision = revision_of(conn, t.dialect)
        except BaseException:
            pool.drop(conn)
            raise
        pool.put(conn)
        if revision is None and size is not None:
            _refuse_unmigrated_file(t, size)
        return revision == HEAD_REVISION
    return False


def _refuse_unmigrated_file(t: Target, size: int) -> None:
    """An existing SQLite file without hnce's schema — emptied, truncated, or another
    program's — is never quietly turned into a new, empty hnce database: a wiped database
    must not look like a fresh one. Only `hnce db upgrade` creates a schema in it."""
    from hnce_cli.errors import Unavailable

    what = "是空文件 (0 字节)" if size == 0 else "不是 hnce 的数据库（没有 hnce 的表）"
    raise Unavailable(
        f"数据库文件 {t.sqlite_file} {what}：若它原有数据，请从备份恢复；若要在其中新建数据库，请运行 "
        f"hnce --db {t.shown} db upgrade (the file exists but holds no hnce database: restore it from a "
        "backup, or create one in it with `hnce db upgrade`)")
