"""Migrating a database to this hnce's schema (Alembic on SQLAlchemy, with the SQLModel
tables of hnce_cli.models as the schema of record): the only place SQLAlchemy runs.

A fresh SQLite file is created and migrated on first use. An existing database
whose schema is behind is upgraded automatically only for SQLite files; a
PostgreSQL database is upgraded deliberately with `hnce db upgrade`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from hnce_cli.errors import SchemaOutdated, Unavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

from hnce_cli.store.schema import HEAD_REVISION

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # hnce issues BEGIN itself (see _sqlite_begin), so the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Up to 64 MiB of page cache (SQLite's default is 2 MiB): a batch of 100,000
    # changes touches more pages than that, and a smaller cache spills them to the
    # WAL mid-transaction and reads them back. Only pages actually used take memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(conn) -> None:  # noqa: ANN001
    """Writers take the write lock up front (BEGIN IMMEDIATE): a transaction that
    reads first and writes later could otherwise fail at once instead of waiting
    for a concurrent writer (two admins approving at the same moment)."""
    write = conn.get_execution_options().get("hnce_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def normalise_url(url: str) -> str:
    """Accept the everyday spellings of PostgreSQL URLs and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@cache
def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    from sqlalchemy import create_engine, event

    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            from hnce_cli.store import create_private_file

            create_private_file(Path(path).expanduser())
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        from hnce_cli.extras import require

        require("postgres")
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return engine


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as exc:
        message = str(exc).lower()
        if "alembic_version" in message and ("no such table" in message or "does not exist" in message):
            return None
        raise Unavailable(f"无法打开数据库 (cannot open the database): {exc.orig}") from exc


def upgrade(url: str) -> tuple[str | None, str]:
    """Run Alembic migrations to head and load the reference data. Returns (from, to)."""
    from alembic import command
    from alembic.config import Config

    engine = get_engine(url)
    before = current_revision(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    from hnce_cli.reference import seed_reference_data

    seed_reference_data(engine)
    return before, HEAD_REVISION


_checked: set[str] = set()


def ensure_schema(url: str) -> Engine:
    """Open the database, migrating a fresh or outdated SQLite file on first use.

    Checked once per URL per process, so a server pays for it only at its first request.
    """
    engine = get_engine(url)
    if url in _checked:
        return engine
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        _checked.add(url)
        return engine
    if revision is not None and not any((MIGRATIONS / "versions").glob(f"{revision}_*.py")):
        # Migrated by a newer hnce (e.g. an old worker restarted mid-rollout): never
        # "upgrade" it, and do not tell the operator to run an upgrade that cannot help.
        raise SchemaOutdated(
            f"数据库结构版本 {revision} 比本 hnce（{HEAD_REVISION}）新，请安装升级它的 hnce 版本 "
            f"(the database schema is at {revision}, newer than this hnce ({HEAD_REVISION}): "
            "install the hnce version that migrated it; see docs/deploy.md)"
        )
    if engine.dialect.name == "sqlite" or revision is None:
        upgrade(url)
        _checked.add(url)
        return engine
    raise SchemaOutdated(
        f"数据库结构版本为 {revision}，本 hnce 需要 {HEAD_REVISION}：请运行 hnce db upgrade "
        f"(the database schema is at {revision}, this hnce needs {HEAD_REVISION}: "
        "run `hnce db upgrade`; see docs/deploy.md)"
    )
