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


def run_on_a_terminal(argv: list[str], env: dict[str, str], answer: bytes,
                      timeout: float = 60) -> tuple[int, str]:
    """Run `argv` on a pseudo-terminal, type `answer` once it asks, return (code, output)."""
    import os
    import pty
    import select
    import subprocess
    import time

    main, child = pty.openpty()
    proc = subprocess.Popen(argv, env={**env, "TERM": "xterm", "COLUMNS": "100"}, stdin=child,
                            stdout=child, stderr=child, close_fds=True)
    os.close(child)
    output, answered, deadline = b"", False, time.monotonic() + timeout
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
                output += chunk
            if not answered and "确定吗".encode() in output:
                os.write(main, answer)
                answered = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    return code, output.decode(errors="replace")


def test_declining_the_confirmation_exits_130_and_changes_nothing(sqlite_world: World) -> None:
    from conftest import hnce_command

    setup, number = sqlite_world.setup, sqlite_world.people_a[0].id_number
    env = {**setup.as_user(sqlite_world.a_admin1.token)}
    env.pop("HNCE_NO_PROMPT", None)
    code, output = run_on_a_terminal([*hnce_command(), "approve", number], env, b"n\r")
    assert code == 130, output
    assert "已取消" in output
    assert setup.scalar("SELECT status FROM professional WHERE id_number = :n", n=number) == "pending"


def test_json_is_indented_at_a_terminal_and_compact_in_a_pipe(sqlite_world: World) -> None:
    """A person reading --json at a terminal gets it indented; a script gets one compact
    document (a 100,000-item review is a third smaller); both parse to the same data."""
    import json

    from conftest import hnce_command

    setup = sqlite_world.setup
    env = setup.as_user(sqlite_world.a_admin1.token)
    piped = setup.run("whoami", "--json", token=sqlite_world.a_admin1.token)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count("\n") == 1 and '":' in piped.stdout and '": ' not in piped.stdout
    code, shown = run_on_a_terminal([*hnce_command(), "whoami", "--json"], env, b"")
    assert code == 0, shown
    assert '\n  "' in shown.replace("\r\n", "\n")
    assert json.loads(shown) == json.loads(piped.stdout)
