"""A change the database aborted is run again; a busy database is told apart from a broken
one by its code, never by words in a message (store.retried, store._translate)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg
import psycopg.errors as pg
import pytest
from conftest import Setup

from hnce_cli import store
from hnce_cli.errors import ExitCode, Unavailable


def test_a_deadlock_is_run_again_and_both_changes_land(postgres_setup: Setup) -> None:
    """Two changes locking two rows in opposite orders: PostgreSQL aborts one (40P01);
    it is run again from the start, and both are written."""
    url = postgres_setup.db_url
    first, second = (row[0] for row in postgres_setup.rows("SELECT id FROM unit ORDER BY id LIMIT 2"))
    barrier = threading.Barrier(2)
    attempts = {"forward": 0, "backward": 0}
    errors: list[BaseException] = []

    def change(name: str, ids: tuple[int, int]) -> str:
        def once() -> str:
            attempts[name] += 1
            with store.transaction(url, write=True) as db:
                db.execute("UPDATE unit SET name = name WHERE id = :id", id=ids[0])
                if attempts[name] == 1:
                    barrier.wait(timeout=30)  # each holds one row and asks for the other's
                db.execute("UPDATE unit SET name = name WHERE id = :id", id=ids[1])
            return name

        return store.retried(once)

    def worker(name: str, ids: tuple[int, int]) -> None:
        try:
            change(name, ids)
        except BaseException as exc:  # kept for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=("forward", (first, second))),
               threading.Thread(target=worker, args=("backward", (second, first)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(attempts.values()) == [1, 2]  # one aborted once, then written


def test_every_try_aborted_is_busy_not_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda _seconds: None)
    tries = []

    def always_aborted() -> None:
        tries.append(1)
        raise store.TransactionAborted()

    with pytest.raises(Unavailable) as exc:
        store.retried(always_aborted)
    assert len(tries) == 1 + store.RETRIES
    assert (exc.value.exit_code, exc.value.http_status) == (ExitCode.UNAVAILABLE, 503)
    assert "数据库正忙" in exc.value.message and "try again" in exc.value.message


def test_postgresql_errors_are_read_by_their_sqlstate() -> None:
    assert isinstance(store._translate(pg.DeadlockDetected("deadlock detected")), store.TransactionAborted)
    assert isinstance(store._translate(pg.SerializationFailure("could not serialize")), store.TransactionAborted)
    busy = store._translate(pg.LockNotAvailable("canceling statement due to lock timeout"))
    assert isinstance(busy, Unavailable) and busy.message == store.BUSY
    # An unrelated error that happens to say "locked" is not a busy database.
    other = store._translate(psycopg.OperationalError("relation locked_rows: database is locked"))
    assert isinstance(other, Unavailable) and "正忙" not in other.message


def test_sqlite_busy_is_read_by_its_result_code(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    waiter = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as exc:
            waiter.execute("BEGIN IMMEDIATE")
        busy = store._translate(exc.value)
        assert isinstance(busy, Unavailable) and busy.message == store.BUSY
    finally:
        holder.close()
        waiter.close()
    # A missing table named like a lock is a bug, not a busy database.
    missing = sqlite3.OperationalError("no such table: locked_rows")
    assert store._translate(missing) is missing
