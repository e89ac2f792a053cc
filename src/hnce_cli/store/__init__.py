"""The one way hnce reaches its database at run time, one transaction per backend call.

    with store.transaction(url) as db:                # a read
        db.rows("SELECT id, name FROM unit WHERE region_code = :code", code="410105")
    with store.transaction(url, write=True) as db:    # a change
        db.add(Unit(name=..., region_code="410105", created_at=clock.now()))

SQLModel (`hnce_cli.models`) is the schema of record and the write path: the tables are
declared there, Alembic migrates a database to them (`store.migrate`), and every change
runs in a SQLModel `Session` that owns its transaction; a new row is a model instance
(`Db.add`), a state transition one conditional statement on the session's connection
(`Db.execute`), in the same transaction as its audit row.

Reads are the one read path: SQL with named parameters on the standard DB-API drivers
(stdlib `sqlite3`, psycopg 3), so that an everyday read pays for the driver (a few ms)
and not for the ORM's imports (0.2–0.45 s, more than a whole everyday command may take).

Conventions every statement follows:
- parameters are `:name` (converted to psycopg's `%(name)s` once per statement text);
- times are stored in UTC: SQLite keeps the text form SQLAlchemy wrote
  (`2025-12-31 15:00:00.000000`), PostgreSQL a `timestamptz`; both come back as aware
  UTC datetimes from DATETIME columns (computed times: `parse_time`);
- a list of values is ONE bound JSON array read back as rows (`json_values`), so a
  batch of 100,000 has no bind-parameter limit and costs one parameter;
- SQLite writers take the write lock at BEGIN (BEGIN IMMEDIATE): two admins deciding
  at once queue for the lock instead of one failing with "database is locked";
- a change PostgreSQL aborted for a deadlock or a serialization failure is run again from
  the start (`retried`, at most RETRIES more times); a busy database is told apart from a
  broken one by its SQLSTATE or SQLite result code, never by words in a message.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from hnce_cli.errors import HnceError, Unavailable
from hnce_cli.masking import hide_password  # the one rule for a password in an address

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
# What SQLite says of a file that is not (or no longer) a database.
_DAMAGED = re.compile(r"not a database|malformed|disk image|file is encrypted")
_stream_names = itertools.count(1)  # server-side cursors open at once need names of their own
T = TypeVar("T")


class IntegrityError(HnceError):
    """A unique or foreign-key constraint refused a write (the service says why, in words)."""

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


BUSY = "数据库正忙，请稍后重试 (database is busy)"


class TransactionAborted(Unavailable):
    """PostgreSQL ended a transaction to break a deadlock or a serialization failure (SQLSTATE
    40P01, 40001): nothing of it was written, so running it again from the start is safe, and
    `retried` does. Only a transaction aborted on every try reaches the caller: busy (exit 8, 503)."""

    def __init__(self) -> None:
        super().__init__("数据库正忙（与同时进行的修改冲突，已重试），请稍后重试 (database is busy: the change "
                         "collided with concurrent ones and was retried; nothing was written — try again)",
                         {"retried": RETRIES})


# A transaction PostgreSQL aborted is run this many times more, after a short random pause.
RETRIES = 3
# SQLSTATEs: what PostgreSQL aborts and may be run again; what is a busy database, not a broken one.
_ABORTED = {"40P01", "40001"}  # deadlock_detected, serialization_failure
_PG_BUSY = {"55P03", "53300", "57014"}  # lock_not_available, too_many_connections, query_canceled (a timeout)
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)


def retried(work: Callable[[], T]) -> T:
    """`work()` — one whole transaction — run again when the database aborted it (a deadlock
    or a serialization failure, `TransactionAborted`), up to RETRIES times, each after a short
    random pause so that the transactions that collided do not collide again in step. The one
    place hnce retries a change: the backend's writes go through it."""
    import random
    import time

    for attempt in range(RETRIES):
        try:
            return work()
        except TransactionAborted:
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    return work()


# --- where the database is -----------------------------------------------------------------

class Target(NamedTuple):
    """A database URL, parsed once: the dialect, what the driver connects to, and a
    form safe to print (no password)."""

    url: str
    dialect: str
    dsn: str  # SQLite: the file path; PostgreSQL: a libpq URL
    shown: str

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.dsn) if self.dialect == SQLITE else None


@cache
def target(url: str) -> Target:
    """The one reading of a database URL: `sqlite:///path` (relative) or `sqlite:////abs`,
    and every everyday spelling of PostgreSQL (`postgres://`, `postgresql://`,
    `postgresql+psycopg://`)."""
    url = url.strip()
    if url.startswith("sqlite:"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path or path == ":memory:":
            from hnce_cli.errors import ValidationFailed

            raise ValidationFailed.one("db", f"需要数据库文件路径：{url}",
                                       "give sqlite:///path/to/hnce.db (an in-memory database is not kept)")
        path = str(Path(path).expanduser())
        return Target(f"sqlite:///{path}", SQLITE, path, f"sqlite:///{path}")
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            dsn = "postgresql://" + url[len(prefix):]
            return Target("postgresql+psycopg://" + url[len(prefix):], POSTGRESQL, dsn, hide_password(dsn))
    from hnce_cli.errors import ValidationFailed

    raise ValidationFailed.one("db", f"不支持的数据库地址：{hide_password(url)}",
                               "use sqlite:///path/to/hnce.db or postgresql://user@host/dbname")


# --- time as stored --------------------------------------------------------------------------

def parse_time(value: Any) -> datetime | None:
    """A stored time (SQLite text, or a driver's datetime) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _convert_time(value: bytes) -> datetime | None:
    return parse_time(value)


def _convert_date(value: bytes) -> date:
    return date.fromisoformat(value.decode()[:10])


def _convert_bool(value: bytes) -> bool:
    return value not in (b"0", b"")


# Column types as the migrations declare them in SQLite (the first word of the declared
# type, upper-cased, as sqlite3 looks them up).
_CONVERTERS = {"DATETIME": _convert_time, "TIMESTAMP": _convert_time, "DATE": _convert_date,
               "BOOLEAN": _convert_bool}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime(_SQLITE_TIME)
    if isinstance(value, date):
        return value.isoformat()
    return value


@cache
def _pyformat(sql: str) -> str:
    """`:name` → psycopg's `%(name)s` (a literal % doubled); once per statement text."""
    return _NAMED.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))


# --- one connection in one transaction ---------------------------------------------------------

class Hot(str):
    """A named statement of an everyday request (the session of a token, a look-up): prepared
    on PostgreSQL on first use, so each request skips its planning. Only statements whose
    plan does not depend on a parameter's size: a generic plan chosen for one list length
    can be bad for another, which is why nothing else is ever prepared."""

    __slots__ = ()


class Db:
    """A connection inside one transaction: what services are given to read and write.

    Statements are text with `:name` parameters; rows come back as plain tuples.
    """

    def __init__(self, conn: Any, dialect: str, url: str, reconnect: Any = None, session: Any = None) -> None:
        self.conn = conn
        self.dialect = dialect
        self.url = url
        self.errors = driver_errors(dialect)
        # A pooled PostgreSQL reader sends nothing before its first statement, so a
        # connection the server dropped meanwhile shows only there: reconnect once.
        self._reconnect = reconnect
        self.session = session  # the SQLModel Session of a write transaction; None in a read

    @property
    def pg(self) -> bool:
        return self.dialect == POSTGRESQL

    def _cursor(self, sql: str, params: dict[str, Any]) -> Any:
        cursor = self.conn.cursor()
        try:
            if self.pg:
                cursor.execute(_pyformat(sql), params, prepare=isinstance(sql, Hot) or None)
            else:
                cursor.execute(sql, {k: _sqlite_value(v) for k, v in params.items()})
        except self.errors as exc:
            cursor.close()
            if self._reconnect is not None and _is_disconnect(exc):
                self.conn, self._reconnect = self._reconnect(), None
                return self._cursor(sql, params)
            raise _translate(exc) from exc
        self._reconnect = None
        return cursor

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        cursor = self._cursor(sql, params)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def one(self, sql: str, **params: Any) -> tuple | None:
        cursor = self._cursor(sql, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def scalar(self, sql: str, **params: Any) -> Any:
        row = self.one(sql, **params)
        return None if row is None else row[0]

    def column(self, sql: str, **params: Any) -> list[Any]:
        return [row[0] for row in self.rows(sql, **params)]

    def execute(self, sql: str, **params: Any) -> int:
        """A statement without rows; the number of rows it changed."""
        cursor = self._cursor(sql, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def add(self, row: Any) -> Any:
        """A new row as a SQLModel model instance, written now (flushed) in this transaction;
        the row, with its id. Only in a write transaction."""
        if self.session is None:
            raise RuntimeError("Db.add outside a write transaction (store.transaction(url, write=True))")
        self.session.add(row)
        _flush(self.session)
        return row

    def many(self, sql: str, rows: Sequence[dict[str, Any]]) -> None:
        """One statement for many parameter sets (executemany)."""
        if not rows:
            return
        cursor = self.conn.cursor()
        try:
            if self.pg:
                cursor.executemany(_pyformat(sql), rows)
            else:
                cursor.executemany(sql, [{k: _sqlite_value(v) for k, v in r.items()} for r in rows])
        except self.errors as exc:
            raise _translate(exc) from exc
        finally:
            cursor.close()

    def stream(self, sql: str, batch: int = 10_000, **params: Any) -> Iterator[tuple]:
        """Rows as they come, `batch` at a time (a province is a million rows): a server-side
        cursor on PostgreSQL, the driver's own cursor on SQLite."""
        if self.pg:
            if self.conn.info.transaction_status == 0:  # a server-side cursor lives in a transaction
                self.execute("BEGIN")
            cursor = self.conn.cursor(name=f"hnce_stream_{next(_stream_names)}")
            cursor.itersize = batch
            try:
                cursor.execute(_pyformat(sql), params)
            except self.errors as exc:
                cursor.close()
                raise _translate(exc) from exc
        else:
            cursor = self._cursor(sql, params)
        try:
            while chunk := cursor.fetchmany(batch):
                yield from chunk
        except self.errors as exc:
            raise _translate(exc) from exc
        finally:
            cursor.close()

    # -- dialect words ------------------------------------------------------------------------

    def json_values(self, param: str, sql_type: str = "TEXT") -> str:
        """A FROM-clause item with one column `value`: the values bound as ONE JSON array in
        `:param` (see `json_list`). `sql_type` BIGINT gives integers on both databases."""
        if self.pg:
            cast = "value" if sql_type.upper() == "TEXT" else f"CAST(value AS {sql_type})"
            return f"(SELECT {cast} AS value FROM jsonb_array_elements_text(CAST(:{param} AS jsonb)))"
        return f"(SELECT value FROM json_each(:{param}))"

    def json_table(self, columns: Sequence[tuple[str, str]], param: str = "rows") -> str:
        """A FROM-clause item with the given (name, SQL type) columns, read from a JSON array of
        arrays bound in `:param`: many rows inserted by one INSERT … SELECT. Type "JSON" keeps a
        nested value as JSON text (for a column holding JSON)."""
        if self.pg:  # json, not jsonb: a nested object keeps its key order
            picked = ", ".join(f"CAST(r->{i} AS TEXT) AS {name}" if kind == "JSON" else
                               f"CAST(r->>{i} AS {kind}) AS {name}" for i, (name, kind) in enumerate(columns))
            return f"(SELECT {picked} FROM json_array_elements(CAST(:{param} AS json)) AS r)"
        picked = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, (name, _) in enumerate(columns))
        return f"(SELECT {picked} FROM json_each(:{param}))"

    def text_key(self, expression: str) -> str:
        """An integer expression as text (audit rows keep their subject as text)."""
        return f"CAST({expression} AS VARCHAR(64))"


def json_list(values: Iterable[Any]) -> str:
    """The JSON array `Db.json_values` reads."""
    return json.dumps(list(values), ensure_ascii=False)


def in_list(db: Db, column: str, param: str, sql_type: str = "TEXT") -> str:
    """`column IN (the values bound as one JSON array in :param)`."""
    return f"{column} IN (SELECT value FROM {db.json_values(param, sql_type)} AS {param}_list)"


def like_prefix(value: str) -> str:
    """A LIKE pattern for "starts with value" (used with ESCAPE '/')."""
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def like_contains(value: str) -> str:
    """A LIKE pattern for "contains value" (used with ESCAPE '/')."""
    return "%" + like_prefix(value)


# --- errors ------------------------------------------------------------------------------------

def driver_errors(dialect: str) -> tuple[type[BaseException], ...]:
    """The base error class of the dialect's driver: what a statement can raise besides a bug."""
    if dialect == SQLITE:
        import sqlite3

        return (sqlite3.Error,)
    import psycopg

    return (psycopg.Error,)


def _translate(exc: Exception) -> Exception:
    """A driver's error as hnce's own: busy and unreachable databases are Unavailable (exit 8,
    HTTP 503), a refused constraint is IntegrityError; anything else is a bug and stays itself."""
    if isinstance(exc, HnceError):
        return exc
    import sqlite3

    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(str(exc))
    if type(exc) is sqlite3.DatabaseError and _DAMAGED.search(str(exc)):
        return Unavailable(f"数据库文件已损坏，请从备份恢复 (the database file is damaged: restore it from a backup; "
                           f"see docs/deploy.md): {exc}")
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc)
        code = getattr(exc, "sqlite_errorcode", None)  # by SQLite's result code, never by words in a message
        if code is not None and code & 0xFF in _SQLITE_BUSY:
            return Unavailable(BUSY, {"waited_seconds": 10})
        if "no such table" in message or "no such column" in message:
            return exc
        return Unavailable(f"数据库不可用 (database error): {message}")
    psycopg = _psycopg_errors()
    if psycopg is not None:
        errors, base = psycopg
        if isinstance(exc, errors.IntegrityError):
            diag = getattr(exc, "diag", None)
            return IntegrityError(str(exc), getattr(diag, "constraint_name", None))
        state = getattr(exc, "sqlstate", None)
        if state in _ABORTED:
            return TransactionAborted()
        if state in _PG_BUSY:
            return Unavailable(BUSY, {"sqlstate": state})
        if isinstance(exc, errors.OperationalError):
            return Unavailable(f"数据库不可用 (database error): {hide_password(str(exc).strip())}")
        if isinstance(exc, errors.DataError) and "NUL" in str(exc):
            # The services hold text to the policy, naming the field; this is the net under
            # them: PostgreSQL refuses a NUL in any text, and that is bad input, not a bug.
            from hnce_cli.errors import ValidationFailed

            return ValidationFailed.one("input", "输入含有 NUL 字符 (U+0000)，无法保存或查询 "
                                                 "(a NUL character cannot be stored or searched)",
                                        "retype the value by hand; do not paste it from another document")
    return exc


def _psycopg_errors() -> tuple[Any, Any] | None:
    import sys

    module = sys.modules.get("psycopg")
    return (module, module.Error) if module is not None else None


# --- connections and transactions ---------------------------------------------------------------

def create_private_file(path: Path) -> None:
    """A new SQLite file created readable by its owner alone (mode 600; SQLite gives its -wal
    and -shm companions the same): it holds people's ID numbers and phones. An existing
    file is left as it is."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _connect(t: Target, *, autocommit: bool = True) -> Any:
    """A DB-API connection set up as hnce uses it. `autocommit=False` on PostgreSQL is the
    write path's (SQLAlchemy opens and ends its transactions); SQLite always runs in
    autocommit, and hnce sends its own BEGIN (IMMEDIATE for writers)."""
    if t.dialect == SQLITE:
        import sqlite3

        for name, converter in _CONVERTERS.items():
            sqlite3.register_converter(name, converter)
        conn = sqlite3.connect(t.dsn, timeout=10, isolation_level=None, check_same_thread=False,
                               detect_types=sqlite3.PARSE_DECLTYPES)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # the first read of the file: a damaged one fails here
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            # Up to 64 MiB of page cache (SQLite's default is 2 MiB): a batch of 100,000 changes
            # touches more pages than that, and a smaller cache spills them to the WAL
            # mid-transaction and reads them back. Only pages actually used take memory.
            conn.execute("PRAGMA cache_size=-65536")
        except sqlite3.Error as exc:
            conn.close()
            raise _translate(exc) from exc
        return conn
    from hnce_cli.extras import require

    require("postgres")  # an extra: a desk on SQLite does not install the driver
    import psycopg

    try:
        # prepare_threshold=None: psycopg would otherwise prepare a statement after its fifth
        # run and keep that plan on the pooled connection, chosen while a table was small
        # (one review-history read went from 0.17 s to 95 s after a 100,000-row import).
        return psycopg.connect(t.dsn, autocommit=autocommit, connect_timeout=10, prepare_threshold=None)
    except psycopg.OperationalError as exc:
        raise Unavailable(f"无法连接数据库 {t.shown} (cannot connect): {hide_password(str(exc).strip())}") from exc
    except psycopg.ProgrammingError as exc:  # libpq could not read the URL (it may quote it whole)
        from hnce_cli.errors import ValidationFailed

        raise ValidationFailed.one("db", f"数据库地址无效 (invalid database URL): {hide_password(str(exc).strip())}",
                                   "e.g. postgresql://user:password@host:5432/dbname") from exc


class _Pool:
    """The connections of one database in this process: a few kept idle for the next call
    (the API server serves many requests; a CLI command makes one or two calls), and at
    most `limit` open at once, so a burst of requests waits for a connection rather than
    exhausting the server's (PostgreSQL's max_connections is shared by every worker)."""

    def __init__(self, t: Target, idle: int = 8, limit: int = 15, wait: float = 30.0) -> None:
        self.target = t
        self.idle: queue.LifoQueue[Any] = queue.LifoQueue(maxsize=idle)
        self.slots = threading.BoundedSemaphore(limit)
        self.wait = wait

    def get(self) -> tuple[Any, bool]:
        """A connection, and whether it was reused (a reused one may have died meanwhile)."""
        if not self.slots.acquire(timeout=self.wait):
            raise Unavailable("数据库连接已满，请稍后重试 (every database connection is busy)")
        try:
            return self.idle.get_nowait(), True
        except queue.Empty:
            pass
        try:
            return _connect(self.target), False
        except BaseException:
            self.slots.release()
            raise

    def put(self, conn: Any) -> None:
        """A connection back after a call that left it usable."""
        try:
            self.idle.put_nowait(conn)
        except queue.Full:
            _discard(conn)
        self.slots.release()

    def drop(self, conn: Any) -> None:
        """A connection back after a call that may have left it broken: closed."""
        _discard(conn)
        self.slots.release()

    def close(self) -> None:
        while True:
            try:
                _discard(self.idle.get_nowait())
            except queue.Empty:
                return


_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()
_ready: set[str] = set()


def _pool(t: Target) -> _Pool:
    with _pools_lock:
        pool = _pools.get(t.url)
        if pool is None:
            pool = _pools[t.url] = _Pool(t)
        return pool


def close(url: str | None = None) -> None:
    """Close the idle connections (of one database, or all) and forget that its schema was
    checked: tests replace databases under a running process, and a server shuts down."""
    with _pools_lock:
        urls = [target(url).url] if url else list({*_pools, *_engines})
        for key in urls:
            pool = _pools.pop(key, None)
            if pool is not None:
                pool.close()
            engine = _engines.pop(key, None)
            if engine is not None:
                engine.dispose()
            _ready.discard(key)


# --- the write path: a SQLModel Session per change ------------------------------------------

_engines: dict[str, Any] = {}


def _engine(t: Target) -> Any:
    """The SQLModel engine of the write path for one database, made once per process. Its
    connections are made by `_connect` (the same pragmas and converters as the readers);
    at most 10 at once, waiting up to 30 s for one, like the readers' pool."""
    with _pools_lock:
        engine = _engines.get(t.url)
        if engine is None:
            from sqlmodel import create_engine

            if t.dialect == POSTGRESQL:
                from hnce_cli.extras import require

                require("postgres")

            engine = _engines[t.url] = create_engine(
                t.url, creator=lambda: _connect(t, autocommit=False), pool_size=4, max_overflow=6,
                pool_timeout=30, pool_pre_ping=t.dialect == POSTGRESQL)
        return engine


def _sqlalchemy_error(exc: BaseException) -> Exception:
    """A SQLAlchemy error as hnce's own: the driver's error inside it translated, a full pool
    Unavailable; anything else is a bug and stays itself."""
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.DBAPIError) and isinstance(exc.orig, Exception):
        return _translate(exc.orig)
    if isinstance(exc, sa.TimeoutError):
        return Unavailable("数据库连接已满，请稍后重试 (every database connection is busy)")
    return exc  # type: ignore[return-value]


def _flush(session: Any) -> None:
    from sqlalchemy import exc as sa

    try:
        session.flush()
    except (sa.DBAPIError, sa.TimeoutError) as exc:
        raise _sqlalchemy_error(exc) from exc


@contextmanager
def _change(t: Target) -> Iterator[Db]:
    """One write transaction: a SQLModel Session, its connection taken at once (SQLite's
    write lock at BEGIN IMMEDIATE, so two deciders queue instead of one failing), committed
    when the block ends, rolled back when it raises (an HnceError with `keep_changes`
    commits: a refused login keeps its failure count)."""
    from sqlalchemy import exc as sa
    from sqlmodel import Session

    with Session(_engine(t), autoflush=False, expire_on_commit=False) as session:
        try:
            raw = session.connection().connection.dbapi_connection
        except (sa.DBAPIError, sa.TimeoutError) as exc:
            raise _sqlalchemy_error(exc) from exc
        db = Db(raw, t.dialect, t.url, session=session)
        _begin(db, write=True)
        try:
            yield db
        except HnceError as exc:
            _finish(session, commit=exc.keep_changes)
            raise
        except BaseException:
            _finish(session, commit=False)
            raise
        _finish(session, commit=True)


def _finish(session: Any, *, commit: bool) -> None:
    from sqlalchemy import exc as sa

    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except (sa.DBAPIError, sa.TimeoutError) as exc:
        raise _sqlalchemy_error(exc) from exc


def _begin(db: Db, write: bool) -> None:
    """SQLite's BEGIN: IMMEDIATE for a writer (the write lock now), deferred for a reader (a
    snapshot). A PostgreSQL reader needs none (autocommit); a writer's is SQLAlchemy's."""
    if not db.pg:
        try:
            db.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except db.errors as exc:
            raise _translate(exc) from exc


@contextmanager
def transaction(url: str, *, write: bool = False) -> Iterator[Db]:
    """One transaction on the database at `url`. A change (`write=True`) is a SQLModel Session
    (`_change`). A reader on PostgreSQL runs in autocommit (one statement, one round trip); a
    reader on SQLite in a deferred BEGIN (a snapshot of the WAL)."""
    t = target(url)
    pool = _pool(t)
    if t.url not in _ready:
        from hnce_cli.store.schema import at_head

        if not at_head(t, pool):  # migrated (a new or older SQLite file) or refused with the fix
            from hnce_cli.store import migrate

            if t.sqlite_file is not None and not t.sqlite_file.exists():
                create_private_file(t.sqlite_file)
            migrate.ensure_schema(t.url)
        _ready.add(t.url)
    if write:
        with _change(t) as db:
            yield db
        return
    conn, reused = pool.get()
    db = Db(conn, t.dialect, t.url, reconnect=(lambda: _replace(conn, t)) if reused and t.dialect == POSTGRESQL
            else None)
    reusable = False
    try:
        _begin(db, write)
        try:
            yield db
        except HnceError as exc:  # an expected refusal: the connection is as good as before
            _end(db, commit=exc.keep_changes)
            reusable = True
            raise
        except BaseException:
            _end(db, commit=False)
            raise
        _end(db, commit=True)
        reusable = True
    finally:
        if reusable:
            pool.put(db.conn)
        else:
            pool.drop(db.conn)


def _replace(conn: Any, t: Target) -> Any:
    _discard(conn)
    return _connect(t)


def _end(db: Db, *, commit: bool) -> None:
    if db.pg and db.conn.info.transaction_status == 0:  # an autocommit reader: nothing is open
        return
    try:
        db.conn.execute("COMMIT" if commit else "ROLLBACK")
    except db.errors as exc:
        raise _translate(exc) from exc


def _discard(conn: Any) -> None:
    """Close a connection that will not be reused (closing a broken one only tidies up)."""
    import sqlite3

    errors: tuple[type[BaseException], ...] = (sqlite3.Error, *_psycopg_base())
    with contextlib.suppress(*errors):
        conn.close()


def _psycopg_base() -> tuple[type[BaseException], ...]:
    found = _psycopg_errors()
    return (found[1],) if found else ()


def _is_disconnect(exc: Exception) -> bool:
    psycopg = _psycopg_errors()
    return psycopg is not None and isinstance(exc, psycopg[0].OperationalError)
