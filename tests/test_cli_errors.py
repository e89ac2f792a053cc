"""Expected errors are messages with exit codes, never tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import World


@pytest.mark.parametrize("args, code", [
    (["approve", "--since", "yesterday", "--all", "--yes"], 2),
    (["status", "张三"], 6),  # not logged in
    (["unit", "import", "/no/such/file.csv"], 2),
    (["unit", "show", "没有这个单位"], 3),
    (["approve", "--no-such-option"], 2),
    (["register", "--birth-date", "1990-13-01"], 2),
    (["login", "kefu"], 2),  # no terminal, no --password-stdin: cannot ask for the password
])
def test_expected_errors_have_no_traceback(sqlite_world: World, args: list[str], code: int) -> None:
    token = sqlite_world.a_admin1.token if args[0] == "approve" else None
    proc = sqlite_world.setup.run(*args, token=token)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()  # says what went wrong


def test_unreachable_database_is_exit_8(sqlite_world: World) -> None:
    proc = sqlite_world.setup.run("unit", "search", "财政", env={
        "HNCE_DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:9/hnce"})
    assert proc.returncode == 8
    assert "Traceback" not in proc.stderr
    assert "secret" not in proc.stderr + proc.stdout


def test_a_broken_profiles_file_is_explained(sqlite_world: World) -> None:
    config = Path(sqlite_world.setup.env["HNCE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "profiles.json").write_text("{not json", encoding="utf-8")
    proc = sqlite_world.setup.run("whoami")
    assert proc.returncode == 2
    assert "profiles" in proc.stderr and "Traceback" not in proc.stderr


def test_a_one_field_message_is_printed_once_with_its_fix(sqlite_world: World) -> None:
    proc = sqlite_world.setup.run("login", "kefu")  # no terminal, no --password-stdin
    assert proc.returncode == 2
    assert proc.stderr.count("需要密码") == 1, proc.stderr
    assert "--password-stdin" in proc.stderr
