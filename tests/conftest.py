"""Shared fixtures: isolated config/data folders, the storage setups every
end-to-end test runs on (SQLite file, PostgreSQL database), and a seeded world.

A `Setup` is the single place that knows how to reach hnce for a storage:
`run()` runs `hnce ARGS` in this process (typer's runner, a fresh invocation each
time; tests about the process itself live in tests/process/ and start the console
script), `backend()` builds the backend that
in-process code talks to, `db_url` is the database for direct inspection.

The third setup, "remote", is a real `hnce serve` on 127.0.0.1 (one per test
process, see `RemoteServer`) in front of a fresh PostgreSQL database: the CLI
gets HNCE_API_URL (no database URL) and `backend()` is a RemoteBackend, while
`db_url` is still the database, for looking at rows. Time on the server follows
the test: HNCE_NOW given to `run()`/`popen()`, or `set_now()` (below) before
`backend()`, restarts the server with that clock (see `Setup.server_env`).
Tests that are local by nature (`hnce db upgrade` on a database) use
`local_setup` (sqlite and postgres only).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from hnce_cli import clock, store
from hnce_cli.backend import Backend
from hnce_cli.backend.local import LocalBackend
from hnce_cli.schemas import (
    AccountInput,
    DecisionRequest,
    ProfessionalOut,
    RegistrationInput,
    UnitInput,
    UnitOut,
)
from hnce_cli.store import migrate as db
from hnce_cli.validation import id_check_char, uscc_check_char

# Every password of the seeded world: 8+ characters, a letter and a digit.
PASSWORD = "Passw0rd2025"

# Environment variables that change what hnce does; a test sets the ones it means.
_HNCE_VARS = (
    "HNCE_TOKEN", "HNCE_NOW", "HNCE_PASSWORD", "HNCE_API_URL", "HNCE_PROFILE",
    "HNCE_DATABASE_URL", "HNCE_NO_PROMPT", "HNCE_DEBUG", "HNCE_SESSION_HOURS",
)
# The ones that change what the *server* does: a remote setup passes them to `hnce serve`.
SERVER_VARS = ("HNCE_NOW", "HNCE_SESSION_HOURS")


class Screen(NamedTuple):
    """What a command run on a pseudo-terminal left: its exit code, what the terminal showed,
    and its standard output when that went to a pipe instead."""

    code: int
    shown: str
    piped: str


def on_a_terminal(argv: list[str], env: dict[str, str], *, columns: int = 80, lines: int | None = None,
                  stdin: bool = True, stdout: bool = True, answer: bytes = b"", when: bytes | None = None,
                  timeout: float = 60) -> Screen:
    """Run `argv` with standard error — and standard input and output unless told otherwise —
    on a pseudo-terminal of `columns` (and `lines`), as a person at a desk runs it; type
    `answer` once the terminal shows `when`. The one terminal driver of the suite."""
    import pty
    import select

    size = {"TERM": "xterm", "COLUMNS": str(columns), **({"LINES": str(lines)} if lines else {})}
    main, child = pty.openpty()
    proc = subprocess.Popen(argv, env={**env, **size}, stdin=child if stdin else subprocess.DEVNULL,
                            stdout=child if stdout else subprocess.PIPE, stderr=child, close_fds=True)
    os.close(child)
    shown, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if when is not None and not answered and when in shown:
                os.write(main, answer)
                answered = True
            if proc.poll() is not None and not ready:
                break
        piped = proc.stdout.read() if proc.stdout else b""
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()
        os.close(main)
    return Screen(code, shown.decode(errors="replace"), piped.decode(errors="replace"))


def hnce_command() -> list[str]:
    """The installed console script, or the module when it is not on PATH."""
    script = shutil.which("hnce", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "hnce_cli"]


def serve_command() -> list[str]:
    """How the remote setups start `hnce serve`: a real process with the test suite's cheap
    password hashing (hnce_cheap.py)."""
    return [sys.executable, str(Path(__file__).with_name("hnce_cheap.py"))]


def invoke(args: list[str], env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    """`hnce ARGS` run in this process (typer's runner): the same code path as the console
    script from the root command down, with this environment, stdin and captured output,
    and a fresh invocation (profile, backend, clock) for the run."""
    from typer.testing import CliRunner

    from hnce_cli.cli import app

    result = CliRunner().invoke(app, args, input=input, env=env, prog_name="hnce", catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["hnce", *args], result.exit_code, result.stdout, result.stderr)


def run_hnce(*args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`hnce ARGS` in this process with this process's environment (plus `env`) and no stdin."""
    return invoke(list(args), {**os.environ, **(env or {})})


# The suite reads hnce in its default language, Chinese, whatever the machine's locale
# (a developer's LANG=en_US would otherwise turn help and messages English); the language
# tests set their own (tests/test_i18n.py). Subprocesses inherit it.
os.environ["HNCE_LANG"] = "zh"

# The variables that choose a run's language (i18n.choose): the language tests set their own.
LOCALE_VARS = ("HNCE_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


@pytest.fixture
def plain_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """A desk's usual machine: a UTF-8 locale that names no language (the suite's HNCE_LANG=zh
    is lifted: each language test says its language by the locale, as a desk's machine would)."""
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "100")


# Modules with the longest single tests: collected first, so that pytest-xdist hands
# them out at the start rather than leaving one worker busy with them at the end.
SLOW_FIRST = ("test_concurrency.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in SLOW_FIRST)  # stable: order kept otherwise


# --- isolation -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own config and data folders and a clean HNCE_* environment."""
    for name in _HNCE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HNCE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HNCE_DATA_DIR", str(tmp_path / "data"))
    yield
    set_now(None)


_frozen = contextlib.ExitStack()


def set_now(value: datetime | None) -> None:
    """Freeze the clock of this test's in-process code (backends, services) at `value`
    until the test ends or `set_now(None)`; a naive value is Beijing time."""
    _frozen.close()
    if value is not None:
        _frozen.enter_context(clock.frozen(value))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeding hashes many passwords in-process: use argon2id with the smallest
    cost there. Hashes carry their parameters, so every process verifies these just
    as well. In-process CLI runs share this fixture, and the remote setups' `hnce serve`
    hashes at the same small cost (hnce_cheap.py); the tests that
    start plain subprocesses keep production's, which tests/test_harness.py checks."""
    from argon2 import PasswordHasher

    from hnce_cli.services import security

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", lambda: cheap)


# --- PostgreSQL ------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("HNCE_TEST_PG_URL")
    if not url:
        message = "PostgreSQL tests need HNCE_TEST_PG_URL (CI starts a server)"
        if os.environ.get("HNCE_REQUIRE_PG") == "1":
            pytest.fail(message + "; HNCE_REQUIRE_PG=1 forbids skipping them")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_admin_engine(pg_admin_url: str) -> Iterator[Engine]:
    engine = sa.create_engine(db.normalise_url(pg_admin_url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


# --- setups ----------------------------------------------------------------------


@dataclass
class Setup:
    """One way of running hnce against one fresh database."""

    name: str  # "sqlite" | "postgres" | "remote"
    db_url: str  # always a database URL, for inspection with SQLAlchemy
    env: dict[str, str]  # environment for CLI subprocesses
    admin_engine: Engine | None = field(default=None, repr=False)  # PostgreSQL: makes databases
    _engine: Engine | None = field(default=None, repr=False)
    server: RemoteServer | None = field(default=None, repr=False)  # remote: the `hnce serve`
    _backends: list[Any] = field(default_factory=list, repr=False)
    _remotes: dict[tuple[str, int, str | None], Any] = field(default_factory=dict, repr=False)

    @property
    def remote(self) -> bool:
        return self.server is not None

    # -- the CLI --
    def run(self, *args: str, input: str | None = None, token: str | None = None,
            env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `hnce ARGS` in this process (see `invoke`); `token` acts as that user (HNCE_TOKEN)."""
        return invoke(list(args), self._env(token, env), input)

    def process(self, *args: str, input: str | None = None, token: str | None = None,
                env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the installed `hnce` console script as a program of its own (tests/process/)."""
        return subprocess.run([*hnce_command(), *args], env=self._env(token, env), input=input,
                              stdin=None if input is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def popen(self, *args: str, token: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start `hnce` without waiting (for concurrency tests)."""
        full_env = self._env(token, env)
        return subprocess.Popen([*hnce_command(), *args], env=full_env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def _env(self, token: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        env = self.as_user(token) if token else dict(self.env)
        env.update(extra or {})
        if self.server is not None:
            self.server_env(env)
            if "HNCE_API_URL" not in (extra or {}):  # a restart may have moved the server
                env["HNCE_API_URL"] = self.env["HNCE_API_URL"] = self.server.url
        return env

    def as_user(self, token: str) -> dict[str, str]:
        """The subprocess environment acting as the holder of `token`."""
        return {**self.env, "HNCE_TOKEN": token}

    def server_env(self, cli_env: dict[str, str] | None = None) -> None:
        """Remote: run the server with the clock (and session length) the caller sees.

        A CLI subprocess's HNCE_NOW says what time it is for that command, which is
        the server's business in remote mode; in-process, `set_now` plays
        that part. A change restarts the server (about a second); no change is free.
        """
        if self.server is None:
            return
        if cli_env is None:
            frozen = clock.current().frozen_at
            wanted = {"HNCE_NOW": frozen.isoformat()} if frozen is not None else {}
        else:
            wanted = {k: cli_env[k] for k in SERVER_VARS if k in cli_env}
        self.server.ensure(wanted)

    # -- in-process --
    def backend(self, token: str | None = None) -> Backend:
        """The one place that builds a backend for in-process calls."""
        if self.server is not None:
            from hnce_cli.backend.remote import RemoteBackend

            self.server_env()
            # One client per token and server run: a new httpx.Client builds an SSL
            # context (≈ 45 ms), which made seeding 200 people through HTTP cost 10 s.
            key = (self.server.url, self.server.starts, token)
            remote = self._remotes.get(key)
            if remote is None:
                remote = self._remotes[key] = RemoteBackend(self.server.url, token)
                self._backends.append(remote)
            return remote
        return LocalBackend(self.db_url, token)

    def login(self, login: str, password: str = PASSWORD) -> str:
        return self.backend().login(login, password).token

    # -- inspection --
    @property
    def engine(self) -> Engine:
        """A plain engine on the database (not hnce's), for looking at rows."""
        if self._engine is None:
            self._engine = sa.create_engine(db.normalise_url(self.db_url), poolclass=sa.pool.NullPool)
        return self._engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(sql), params)

    def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE {where}", **params))

    # -- lifecycle --
    def close(self) -> None:
        """Drop every connection this process holds to the database."""
        for remote in self._backends:
            remote.close()
        self._backends.clear()
        self._remotes.clear()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        url = db.normalise_url(self.db_url)
        db.get_engine(url).dispose()
        db.get_engine.cache_clear()
        db._checked.discard(url)
        store.close(self.db_url)

    @property
    def database(self) -> str:
        return str(make_url(self.db_url).database)

    def copy_from(self, template: Setup) -> None:
        """Replace this database with a copy of `template`'s (a snapshot built once)."""
        self.close()
        template.close()
        if self.name == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(self.database + suffix).unlink(missing_ok=True)
            with closing(sqlite3.connect(template.database)) as src, \
                    closing(sqlite3.connect(self.database)) as dst:
                src.backup(dst)
        elif self.name in ("postgres", "remote"):
            assert self.admin_engine is not None
            with self.admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
                conn.execute(sa.text(f'CREATE DATABASE "{self.database}" TEMPLATE "{template.database}"'))
        else:
            raise NotImplementedError(f"no database snapshots for {self.name}")


def _subprocess_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
    env.update({
        "HNCE_CONFIG_DIR": str(tmp_path / "config"),
        "HNCE_DATA_DIR": str(tmp_path / "data"),
        "HNCE_DATABASE_URL": db_url,
        "COLUMNS": "200",  # wide tables: no wrapped ID numbers in the output
    })
    return env


def _sqlite(folder: Path) -> Setup:
    url = f"sqlite:///{folder}/hnce.db"
    return Setup("sqlite", url, _subprocess_env(folder, url))


def _postgres(folder: Path, admin_url: str, admin_engine: Engine, template: Setup | None) -> Setup:
    name = f"hnce_t_{secrets.token_hex(6)}"
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'
                             + (f' TEMPLATE "{template.database}"' if template else "")))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return Setup("postgres", url, _subprocess_env(folder, url), admin_engine=admin_engine)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(db_url: str, folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test's `hnce serve`: none of the tester's HNCE_* variables, this
    database, config and data folders of its own under `folder` (a host's certificate key
    file lives in its data folder), then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
    env.update({"HNCE_DATABASE_URL": db_url, "HNCE_CONFIG_DIR": str(folder / "config"),
                "HNCE_DATA_DIR": str(folder / "data"), **(extra or {})})
    return env


def start_serve(env: dict[str, str], port: int, log: Path, *args: str,
                errors: Path | None = None) -> subprocess.Popen[bytes] | None:
    """`hnce serve ARGS` on 127.0.0.1:`port` with `env`, its output in `log` (its standard error
    too, unless `errors` names a file of its own), waited for until it answers /api/v1/health
    (at most 60 s). None when it ended first, or never answered (then it is killed): the
    caller reads `log` for why. Shared by the suite's remote server (`RemoteServer`) and the
    servers a process test starts with options of its own (tests/process/serving.py)."""
    import httpx

    with log.open("wb") as out, (errors.open("wb") if errors else contextlib.nullcontext()) as err:
        proc = subprocess.Popen([*serve_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                                env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err if errors else subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    proc.wait(10)
    return None


def stop_serve(proc: subprocess.Popen[bytes]) -> None:
    """Ask `hnce serve` to stop (its workers finish their requests); kill it after 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class RemoteServer:
    """A real `hnce serve` on loopback over one PostgreSQL database, one per test process.

    Tests replace the database under it (DROP … WITH (FORCE), CREATE … TEMPLATE)
    between tests; the server copes as production would after a failover: its pool
    pings connections before use and replaces dead ones, and it keeps no other
    state. It is restarted only when a test needs another clock (`ensure`).
    """

    def __init__(self, db_url: str, folder: Path) -> None:
        self.db_url = db_url
        self.folder = folder
        self.url = ""
        self.port = 0
        self.extra: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def ensure(self, extra: dict[str, str]) -> None:
        """Running, with exactly these extra variables (restarted if they differ)."""
        if self.proc is not None and self.proc.poll() is None and extra == self.extra:
            return
        self.stop()
        self.start(extra)

    def start(self, extra: dict[str, str]) -> None:
        env = serve_env(self.db_url, self.folder, extra)
        for attempt in range(3):  # a free port can be taken by someone else before we bind it
            port = self.port if self.port and attempt == 0 else free_port()
            self.starts += 1
            proc = start_serve(env, port, self.folder / f"serve-{self.starts}.log")
            if proc is not None:
                self.proc, self.url, self.port, self.extra = proc, f"http://127.0.0.1:{port}", port, dict(extra)
                return
        log_text = (self.folder / f"serve-{self.starts}.log").read_text("utf-8", "replace")
        raise RuntimeError(f"hnce serve did not come up:\n{log_text[-3000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_serve(self.proc)
        self.proc = None


def _drop_postgres(setup: Setup) -> None:
    setup.close()
    assert setup.admin_engine is not None
    with setup.admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{setup.database}" WITH (FORCE)'))


class Templates:
    """Databases built once per test process (migrated; migrated and seeded) and
    copied for each test: copying is much faster than migrating and seeding."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[tuple[str, str], tuple[Setup, World | None]] = {}

    def get(self, kind: str, what: str, new: Callable[[Path], Setup]) -> tuple[Setup, World | None]:
        if (kind, what) not in self.made:
            folder = self.folder / f"{kind}-{what}"
            folder.mkdir()
            template = new(folder)
            template.backend().db_upgrade()
            world = build_world(template) if what == "world" else None
            template.close()
            self.made[(kind, what)] = (template, world)
        return self.made[(kind, what)]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    store = Templates(tmp_path_factory.mktemp("templates"))
    yield store
    for template, _ in store.made.values():
        if template.name == "postgres":
            _drop_postgres(template)
        else:
            template.close()


@pytest.fixture
def sqlite_setup(tmp_path: Path, templates: Templates) -> Iterator[Setup]:
    """A fresh, migrated SQLite file (for tests about rules, not storage)."""
    template, _ = templates.get("sqlite", "empty", _sqlite)
    setup = _sqlite(tmp_path)
    setup.copy_from(template)
    yield setup
    setup.close()


@pytest.fixture
def postgres_setup(tmp_path: Path, pg_admin_url: str, pg_admin_engine: Engine,
                   templates: Templates) -> Iterator[Setup]:
    """A fresh, migrated PostgreSQL database of its own, dropped afterwards."""
    template, _ = templates.get("postgres", "empty",
                                lambda folder: _postgres(folder, pg_admin_url, pg_admin_engine, None))
    setup = _postgres(tmp_path, pg_admin_url, pg_admin_engine, template)
    try:
        yield setup
    finally:
        _drop_postgres(setup)


@pytest.fixture(scope="session")
def remote_server(tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str,
                  pg_admin_engine: Engine, templates: Templates) -> Iterator[RemoteServer]:
    """One `hnce serve` per test process, over a database of its own that each
    remote test replaces with a fresh copy (see `remote_setup`)."""
    template, _ = templates.get("postgres", "empty",
                                lambda folder: _postgres(folder, pg_admin_url, pg_admin_engine, None))
    folder = tmp_path_factory.mktemp("remote-server")
    base = _postgres(folder, pg_admin_url, pg_admin_engine, template)
    server = RemoteServer(base.db_url, folder)
    try:
        server.start({})
        yield server
    finally:
        server.stop()
        _drop_postgres(base)


@pytest.fixture
def remote_setup(tmp_path: Path, pg_admin_url: str, pg_admin_engine: Engine,
                 templates: Templates, remote_server: RemoteServer) -> Iterator[Setup]:
    """A real `hnce serve` over a fresh, migrated PostgreSQL database; the CLI talks HTTP."""
    template, _ = templates.get("postgres", "empty",
                                lambda folder: _postgres(folder, pg_admin_url, pg_admin_engine, None))
    env = _subprocess_env(tmp_path, remote_server.db_url)
    del env["HNCE_DATABASE_URL"]
    env["HNCE_API_URL"] = remote_server.url
    setup = Setup("remote", remote_server.db_url, env, admin_engine=pg_admin_engine,
                  server=remote_server)
    setup.copy_from(template)
    remote_server.ensure({})
    setup.env["HNCE_API_URL"] = remote_server.url
    try:
        yield setup
    finally:
        setup.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("remote", marks=[pytest.mark.postgres, pytest.mark.remote])])
def setup(request: pytest.FixtureRequest) -> Setup:
    """Every way hnce runs; tests of user-visible commands run on each."""
    return request.getfixturevalue(f"{request.param}_setup")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def local_setup(request: pytest.FixtureRequest) -> Setup:
    """The storages without the API in front, for what only runs next to the database
    (`hnce db upgrade`, schema checks)."""
    return request.getfixturevalue(f"{request.param}_setup")


# --- data helpers ----------------------------------------------------------------

_serial = itertools.count(1)


def new_id_number(area: str = "410105", *, male: bool = True, birth: date | None = None) -> str:
    """A valid, unique 18-digit ID number (birth date derived from a counter)."""
    n = next(_serial)
    birth = birth or date(1970, 1, 1) + timedelta(days=n)
    order = 100 + 2 * (n % 400) + (1 if male else 0)
    first17 = f"{area}{birth:%Y%m%d}{order:03d}"
    return first17 + id_check_char(first17)


def new_mobile() -> str:
    return f"139{next(_serial):08d}"


def json_out(proc: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a command printed on stdout (results and --json errors alike)."""
    assert proc.stdout.strip(), f"no output; exit {proc.returncode}, stderr: {proc.stderr}"
    return json.loads(proc.stdout)


def error_fields(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The fields named by a --json validation error."""
    error = json_out(proc)["error"]
    assert error["code"] == "validation", error
    return [p["field"] for p in error["problems"]]


def make_uscc(area: str, body: str) -> str:
    first17 = f"91{area}{body}"
    return first17 + uscc_check_char(first17)


def registration(unit: str | None = None, **overrides: Any) -> RegistrationInput:
    """A valid registration form for `unit` (id, USCC or name); override any field."""
    data: dict[str, Any] = {
        "id_number": new_id_number(), "password": PASSWORD, "mobile": new_mobile(),
        "email": "someone@example.cn", "name": "王测试", "has_employer": True, "unit": unit,
        "department": "财务部",
    }
    data.update(overrides)
    return RegistrationInput(**data)


@dataclass
class User:
    login: str
    token: str
    account_id: int
    password: str = PASSWORD


@dataclass
class Person:
    """An approved professional, logged in."""

    id: int
    id_number: str
    name: str
    token: str


_credit_refs = itertools.count(1)  # each credit record a test writes has a reference of its own


@dataclass
class World:
    """A seeded database: admins of every kind, units A and B, pending registrations."""

    setup: Setup
    password: str
    admin: User
    unit_a: UnitOut
    unit_b: UnitOut
    temp_unit: UnitOut  # 金水区财政局, the temporary unit of 金水区 (410105)
    a_admin1: User
    a_admin2: User
    b_admin: User
    jinshui: User
    kefu: User
    hr: User
    people_a: list[ProfessionalOut] = field(default_factory=list)
    people_b: list[ProfessionalOut] = field(default_factory=list)

    def register(self, unit: UnitOut | None = None, **overrides: Any) -> ProfessionalOut:
        """Register a professional (pending) in `unit` (default unit A)."""
        unit = unit or self.unit_a
        area = unit.region_code[:6]
        overrides.setdefault("id_number", new_id_number(area))
        return self.setup.backend().register(registration(str(unit.id), **overrides))

    def register_many(self, count: int, unit: UnitOut | None = None) -> list[str]:
        return [self.register(unit).id_number for _ in range(count)]

    def approved_person(self, unit: UnitOut | None = None, **overrides: Any) -> Person:
        """Register someone in `unit` (default A), have their unit admin approve them, log in."""
        unit = unit or self.unit_a
        admin = self.a_admin1 if unit.id == self.unit_a.id else self.b_admin
        person = self.register(unit, **overrides)
        self.setup.backend(admin.token).decide(DecisionRequest(decision="approve", id_numbers=[person.id_number]))
        return Person(person.id, person.id_number, person.name, self.setup.login(person.id_number))

    def give_credits(self, person: Person, year: int, *, public: float = 0, professional: float = 0) -> None:
        """Credit records of `year`, as the national import or an HR approval leaves them."""
        for subject, credits in (("public", public), ("professional", professional)):
            if credits:
                self.setup.execute(
                    "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, "
                    "source_ref, created_at) VALUES (:p, :i, :y, :s, :c, 'national', :r, CURRENT_TIMESTAMP)",
                    p=person.id, i=person.id_number, y=year, s=subject, c=credits,
                    r=f"test-{person.id_number}-{next(_credit_refs)}")

    def passed_person(self, year: int, unit: UnitOut | None = None) -> Person:
        """An approved professional (unit A by default), logged in, whose `year` is passed
        (30 public, 60 professional credits)."""
        person = self.approved_person(unit)
        self.give_credits(person, year, public=30, professional=60)
        return person


def build_world(setup: Setup) -> World:
    backend = setup.backend()
    admin_account = backend.db_init("admin", "系统管理员", PASSWORD)
    admin_token = setup.login("admin")
    sysadmin = setup.backend(admin_token)
    unit_a = sysadmin.add_unit(UnitInput(name="河南测试甲会计师事务所有限公司",
                                         uscc=make_uscc("410105", "MA44AAAA1"), region="410105"))
    unit_b = sysadmin.add_unit(UnitInput(name="洛阳测试乙钢铁有限公司",
                                         uscc=make_uscc("410302", "MA44BBBB2"), region="410302"))
    temp = next(u for u in sysadmin.search_units("金水区财政局").units if u.kind == "temporary")

    def account(login: str, role: str, **scope: Any) -> User:
        out = sysadmin.create_account(AccountInput(login=login, name=f"{login} 姓名", role=role,
                                                   password=PASSWORD, **scope))
        return User(login, setup.login(login), out.id)

    world = World(
        setup=setup, password=PASSWORD,
        admin=User("admin", admin_token, admin_account.id),
        unit_a=unit_a, unit_b=unit_b, temp_unit=temp,
        a_admin1=account("a-admin1", "unit_admin", units=[str(unit_a.id)]),
        a_admin2=account("a-admin2", "unit_admin", units=[str(unit_a.id)]),
        b_admin=account("b-admin", "unit_admin", units=[str(unit_b.id)]),
        jinshui=account("jinshui-czj", "unit_admin", units=[str(temp.id)]),
        kefu=account("kefu", "support"),
        hr=account("hr-zhengzhou", "hr", region="410100"),
    )
    world.people_a = [world.register(unit_a) for _ in range(3)]
    world.people_b = [world.register(unit_b) for _ in range(2)]
    return world


def seeded(setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    """`setup`'s database replaced by a copy of the seeded world (built once per process)."""
    if setup.name == "sqlite":
        new: Callable[[Path], Setup] = _sqlite
    elif setup.name in ("postgres", "remote"):
        admin_url, admin_engine = (request.getfixturevalue("pg_admin_url"),
                                   request.getfixturevalue("pg_admin_engine"))

        def new(folder: Path) -> Setup:
            return _postgres(folder, admin_url, admin_engine, None)
    else:
        return build_world(setup)
    kind = "postgres" if setup.name == "remote" else setup.name  # the same database behind
    template, world = templates.get(kind, "world", new)
    assert world is not None
    setup.copy_from(template)
    return replace(world, setup=setup, people_a=list(world.people_a), people_b=list(world.people_b))


@pytest.fixture
def world(setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    """The seeded world on every storage (see `build_world`)."""
    return seeded(setup, templates, request)


@pytest.fixture
def sqlite_world(sqlite_setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    """The seeded world on SQLite only (for tests about rules, not storage)."""
    return seeded(sqlite_setup, templates, request)


@pytest.fixture
def remote_world(remote_setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    """The seeded world behind a real `hnce serve` only (for tests about remote mode)."""
    return seeded(remote_setup, templates, request)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Skips counted by reason in a few lines (the storages a run could not reach, the tests a
    storage does not apply to), instead of a line for every skipped test."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section(f"{len(skipped)} skipped, by reason", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{count:>4} × {reason}")
