"""Commands on a real pseudo-terminal: what a person at a desk sees (prompts, indented
JSON), which a test runner's captured streams cannot show."""

from __future__ import annotations

from conftest import World, hnce_command


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

    setup = sqlite_world.setup
    env = setup.as_user(sqlite_world.a_admin1.token)
    piped = setup.run("whoami", "--json", token=sqlite_world.a_admin1.token)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count("\n") == 1 and '":' in piped.stdout and '": ' not in piped.stdout
    code, shown = run_on_a_terminal([*hnce_command(), "whoami", "--json"], env, b"")
    assert code == 0, shown
    assert '\n  "' in shown.replace("\r\n", "\n")
    assert json.loads(shown) == json.loads(piped.stdout)
