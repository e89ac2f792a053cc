"""What the benchmarks share: finding the installed `hnce`, timing a whole process,
valid ID numbers, seeding professionals with raw SQL (the setup is not timed), and
handing a database over from hnce's own connections to raw sqlite3 work.

The scripts run as `python bench/NAME.py`, so this folder is on sys.path."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path


def hnce() -> list[str]:
    """The console script installed next to this interpreter, else the one on PATH."""
    local = Path(sys.executable).with_name("hnce")
    if local.exists():
        return [str(local)]
    found = shutil.which("hnce")
    if not found:
        sys.exit("hnce is not installed: pip install -e . first")
    return [found]


def load() -> str:
    """The load average, printed beside every figure (the machine is shared)."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def timed(argv: Sequence[str], env: dict[str, str], *, fail: bool = True) -> tuple[float, float, int]:
    """Wall and CPU (user + sys) seconds of one child process, and its exit code.
    With `fail`, a failing run ends the bench with its stderr (a figure of a failed
    run would be meaningless)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(list(argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        message = f"{list(argv)[:3]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}"
        if fail:
            sys.exit(message)
        sys.stderr.write(message + "\n")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def bench_env(work: Path, **extra: str) -> dict[str, str]:
    """The environment of a timed hnce process: this one's, without any HNCE_ setting of the
    caller's (profile, API, token), with the work folder's config and data directories, no
    prompts, and bytecode written (an installed package has its .pyc files: pip compiles them
    at install; the warm-up runs write them here, else every run would compile hnce again)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"HNCE_CONFIG_DIR": str(work / "config"), "HNCE_DATA_DIR": str(work / "data"),
                "HNCE_NO_PROMPT": "1"})
    env.update(extra)
    return env


def release(url: str) -> None:
    """Close every connection this process holds to `url`: hnce's pooled ones (LocalBackend
    keeps them open between calls) and the SQLAlchemy engine of the migrations, if they ran
    here. Needed before raw sqlite3 writes, and before a database file is copied or its
    WAL removed (the last connection to close checkpoints the WAL into the file)."""
    from hnce_cli import store

    store.close(url)
    migrate = sys.modules.get("hnce_cli.store.migrate")
    if migrate is not None:  # migrate.upgrade ran here: its engine pools a connection
        migrate.get_engine(url).dispose()


def checkpoint(path: Path | str) -> None:
    """Everything in the WAL written into the file, the -wal and -shm files gone: the file
    alone is then the whole database (to copy it, or to restore a copy over it)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def make_ids(n: int) -> list[str]:
    """N distinct valid 18-digit ID numbers (金水区, born 1970 onwards, both genders)."""
    from hnce_cli.validation import id_check_char

    ids = []
    for i in range(n):
        birth = date(1970, 1, 1) + timedelta(days=i // 1000)
        first17 = f"410105{birth:%Y%m%d}{i % 1000:03d}"
        ids.append(first17 + id_check_char(first17))
    return ids


def seed_professionals(conn: sqlite3.Connection, ids: list[str], unit_id: int | Sequence[int], *, status: str,
                       password_hash: str, stamp: str, name: Callable[[int], str] | None = None) -> None:
    """One account and one professional per ID number, in the caller's transaction.
    Approved ones get `stamp` as their decision time too. `unit_id`: one unit for all, or
    units taken in turn; `name(i)`: the i-th person's name (default 测试i, all distinct).
    Person i's mobile is 139 followed by i in 8 digits."""
    units = [unit_id] if isinstance(unit_id, int) else list(unit_id)
    name = name or (lambda i: f"测试{i}")
    names = [name(i) for i in range(len(ids))]
    first = conn.execute("SELECT coalesce(max(id), 0) FROM account").fetchone()[0] + 1
    conn.executemany(
        "INSERT INTO account (id, login, password_hash, role, name, active, failed_logins, created_at) "
        "VALUES (?, ?, ?, 'professional', ?, 1, 0, ?)",
        ((first + i, number, password_hash, names[i], stamp) for i, number in enumerate(ids)))
    decided = stamp if status == "approved" else None
    conn.executemany(
        "INSERT INTO professional (account_id, id_number, name, gender, birth_date, mobile, email, "
        "unit_id, status, registered_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((first + i, number, names[i], "男" if int(number[16]) % 2 else "女",
          f"{number[6:10]}-{number[10:12]}-{number[12:14]}", f"139{i:08d}", f"user{i}@example.cn",
          units[i % len(units)], status, stamp, decided) for i, number in enumerate(ids)))
