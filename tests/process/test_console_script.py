"""The installed console script as a program of its own: what in-process runs cannot
show (the harness's cheap password hashing stays test-only; start-up; a whole flow)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from conftest import PASSWORD, World, hnce_command, json_out, new_id_number, new_mobile

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



def test_register_approve_status_through_the_installed_console_script(
        sqlite_world: World) -> None:
    """The installed `hnce` script itself, started as a program: register, approve and
    look up, end to end."""
    assert len(hnce_command()) == 1 and hnce_command()[0].endswith("hnce"), "console script not installed"
    world = sqlite_world
    setup = world.setup
    number = new_id_number(birth=date(1991, 3, 4), male=False)
    proc = setup.process("register", "--id-number", number, "--mobile", new_mobile(), "--email", "zl@example.cn",
                     "--name", "赵六", "--unit", world.unit_a.name, "--gender", "女", "--birth-date",
                     "1991-03-04", "--password-stdin", "--json", input=PASSWORD + "\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["status"] == "pending"
    proc = setup.process("approve", number, "--yes", "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["counts"] == {"approved": 1}
    proc = setup.process("status", number, "--json", token=world.kefu.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (match,) = json_out(proc)["matches"]
    assert match["status"] == "approved" and match["name"] == "赵六"
    assert match["id_number"] != number and match["id_number"][:6] == number[:6]  # masked for support


def test_the_root_help_loads_no_command_and_no_heavy_library(tmp_path: Path) -> None:
    """`hnce --help` is printed from the command registry: no command module, no pydantic,
    SQLAlchemy, rich or database driver is imported (what keeps it within 150 ms)."""
    env = {**os.environ, "HNCE_CONFIG_DIR": str(tmp_path / "c"), "HNCE_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys; sys.argv[0] = 'hnce'; from hnce_cli.__main__ import main; main()", "--help"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Commands:" in proc.stdout, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in imported if m.startswith("hnce_cli.commands")}
    assert not imported & {"pydantic", "sqlalchemy", "rich", "psycopg", "sqlite3", "httpx"}
    version = subprocess.run([*hnce_command(), "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("hnce ")
