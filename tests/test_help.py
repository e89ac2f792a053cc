"""Every command documents itself with an example; found from the app itself, so
a new command cannot be forgotten."""

from __future__ import annotations

import subprocess

import pytest
import typer
from conftest import hnce_command

from hnce_cli.cli import app


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


PATHS = command_paths()


def test_the_walk_finds_the_commands() -> None:
    found = {" ".join(p) for p in PATHS}
    assert {"", "register", "approve", "status", "login", "unit", "unit import", "db upgrade"} <= found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "hnce")
def test_help_has_an_example(path: list[str]) -> None:
    proc = subprocess.run([*hnce_command(), *path, "--help"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout, proc.stdout
