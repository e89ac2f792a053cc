"""Every command documents itself with an example; found from the command registry
itself, so a new command cannot be forgotten."""

from __future__ import annotations

import pytest
import typer
from conftest import run_hnce

from hnce_cli.cli import COMMANDS, app, load_command
from hnce_cli.i18n import _


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])

    for name in COMMANDS:
        walk(load_command(name), [name])
    return paths


PATHS = command_paths()


def test_the_walk_finds_the_commands() -> None:
    found = {" ".join(p) for p in PATHS}
    assert {"", "register", "approve", "status", "login", "unit", "unit import", "db upgrade", "inbox"} <= found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "hnce")
def test_help_has_an_example(path: list[str]) -> None:
    proc = run_hnce(*path, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout, proc.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_root_help_says_what_each_command_says_of_itself(name: str) -> None:
    """The root help prints the registry's summaries without loading the commands: each
    must be the first line of the command's own help."""
    command = load_command(name)
    assert (command.help or "").strip().splitlines()[0] == COMMANDS[name][1]


def test_the_root_help_lists_every_command_in_the_registrys_order() -> None:
    proc = run_hnce("--help")
    assert proc.returncode == 0 and "Example: hnce demo" in proc.stdout
    lines = [line.split(maxsplit=1) for line in proc.stdout.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert [name for name, _ in lines] == list(COMMANDS)
    for name, shown in lines:  # in the run's language (i18n), cut to the terminal's width as click does
        assert _(COMMANDS[name][1]).startswith(shown.removesuffix("...").removesuffix("…")), name


def test_an_unknown_command_is_a_usage_error_naming_it() -> None:
    proc = run_hnce("aprove")
    assert proc.returncode == 2
    assert "aprove" in proc.stderr


@pytest.mark.parametrize("path, lines", [
    (["approve"], ["    hnce approve --list", "    hnce approve --file ids.txt --yes",
                   '    hnce approve 410105199001011233 --reject --reason "单位信息不符"']),
    (["status"], ["    hnce status 13800138000"]),
])
def test_multi_line_examples_keep_their_lines(path: list[str], lines: list[str]) -> None:
    """Examples are copied line by line: click must not re-flow them into one paragraph."""
    proc = run_hnce(*path, "--help")
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout.splitlines()
    for line in lines:
        assert line in shown, proc.stdout


def test_the_app_is_the_registry() -> None:
    group = typer.main.get_command(app)
    assert list(group.list_commands(None)) == list(COMMANDS)  # type: ignore[arg-type]
