"""Commands on a real pseudo-terminal: what a person at a desk sees (prompts, indented
JSON), which a test runner's captured streams cannot show."""

from __future__ import annotations

from conftest import World, hnce_command, on_a_terminal

ASKS = "确定吗".encode()  # the confirmation of a batch


def test_declining_the_confirmation_exits_130_and_changes_nothing(sqlite_world: World) -> None:
    setup, number = sqlite_world.setup, sqlite_world.people_a[0].id_number
    env = {**setup.as_user(sqlite_world.a_admin1.token)}
    env.pop("HNCE_NO_PROMPT", None)
    code, output, _ = on_a_terminal([*hnce_command(), "approve", number], env, columns=100, answer=b"n\r",
                                    when=ASKS)
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
    code, shown, _ = on_a_terminal([*hnce_command(), "whoami", "--json"], env, columns=100)
    assert code == 0, shown
    assert '\n  "' in shown.replace("\r\n", "\n")
    assert json.loads(shown) == json.loads(piped.stdout)
