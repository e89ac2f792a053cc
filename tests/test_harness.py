"""The test harness's cheap password hashing stays test-only: hnce itself, run as
a plain process, hashes at production's cost."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from conftest import PASSWORD, hnce_command

from hnce_cli.services import security


def test_a_plain_hnce_process_hashes_at_production_cost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
    env.update({"HNCE_CONFIG_DIR": str(tmp_path / "config"), "HNCE_DATA_DIR": str(tmp_path / "data")})
    for args, stdin in ((["--db", url, "db", "upgrade"], None),
                        (["--db", url, "db", "init", "--login", "root", "--name", "管理员",
                          "--password-stdin"], PASSWORD + "\n")):
        proc = subprocess.run([*hnce_command(), *args], env=env, input=stdin, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "plain.db") as conn:
        (stored,) = conn.execute("SELECT password_hash FROM account WHERE login = 'root'").fetchone()
    production = PasswordHasher()
    assert extract_parameters(stored) == extract_parameters(production.hash("x"))
    assert production.verify(stored, PASSWORD)


def test_production_hasher_is_the_librarys_default(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.undo()  # the autouse fixture's cheap hasher off: the module's own
    params = extract_parameters(security.hash_password("x"))
    assert params == extract_parameters(PasswordHasher().hash("x"))

