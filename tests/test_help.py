"""Every command documents itself with an example; found from the app itself, so
a new command cannot be forgotten."""

from __future__ import annotations

import subprocess

import pytest
import typer
from conftest import hnce_command, run_hnce

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
    proc = run_hnce(*path, "--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout, proc.stdout


def test_fast_root_help_is_current() -> None:
    """`hnce --help` is printed from a generated text (no typer import) while the
    command sources are unchanged; the text must be exactly typer's."""
    from hnce_cli import _root_help, fasthelp

    assert fasthelp.sources_key() == _root_help.KEY, (
        "the commands changed: run `python -m hnce_cli.fasthelp` to regenerate "
        "src/hnce_cli/_root_help.py (until then `hnce --help` falls back to typer)")
    for columns in fasthelp.COLUMNS:
        width = max(min(columns, fasthelp.MAX_CONTENT_WIDTH) - 2, 50)
        assert _root_help.TEXTS[width] == fasthelp.typer_help(columns), columns


@pytest.mark.parametrize("columns", ["80", "120", "200", "60"])
def test_console_script_help_equals_typers(columns: str) -> None:
    """Whatever path answers it, `hnce --help` prints what typer prints."""
    import os

    def run(**extra: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "COLUMNS": columns, **extra}
        return subprocess.run([*hnce_command(), "--help"], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL, env=env)

    fast, slow = run(), run(HNCE_NO_FAST_HELP="1")
    assert (fast.returncode, slow.returncode) == (0, 0)
    assert fast.stdout == slow.stdout
    assert "approve" in fast.stdout and "Example" in fast.stdout


def test_stale_fast_help_falls_back(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import types

    from hnce_cli import _root_help, fasthelp

    monkeypatch.setattr("sys.argv", ["/usr/bin/hnce", "--help"])
    monkeypatch.setitem(__import__("sys").modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("HNCE_NO_FAST_HELP", raising=False)
    monkeypatch.setattr(_root_help, "KEY", fasthelp.sources_key())
    assert fasthelp.answer("--help") is True  # current: printed without typer
    assert capsys.readouterr().out == _root_help.TEXTS[78]
    monkeypatch.setattr(_root_help, "KEY", "stale")
    assert fasthelp.answer("--help") is False  # sources changed: typer answers
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("path, lines", [
    (["approve"], ["    hnce approve --list", "    hnce approve --file ids.txt --yes",
                   '    hnce approve 410105199001011233 --reject --reason "单位信息不符"']),
    (["status"], ["    hnce status 13800138000"]),
])
def test_multi_line_examples_keep_their_lines(path: list[str], lines: list[str]) -> None:
    """Examples are copied line by line: click must not re-flow them into one paragraph."""
    proc = run_hnce(*path, "--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout.splitlines()
    for line in lines:
        assert line in shown, proc.stdout


def test_typers_text_is_remembered_when_the_shipped_one_is_stale(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """After a command is added (the shipped text stale), only the first `hnce --help`
    pays for typer; it saves typer's text, and the next one prints that."""
    import types

    from hnce_cli import _root_help, fasthelp

    monkeypatch.setattr("sys.argv", ["/usr/bin/hnce", "--help"])
    monkeypatch.setitem(__import__("sys").modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("HNCE_NO_FAST_HELP", raising=False)
    monkeypatch.setattr(_root_help, "KEY", "stale")
    assert fasthelp.answer("--help") is False
    with pytest.raises(SystemExit) as done:
        fasthelp.answer_and_remember("--help")
    assert done.value.code in (0, None)
    printed = capsys.readouterr().out
    assert printed == fasthelp.typer_help(120)
    assert fasthelp.cache_file(fasthelp.sources_key(), 98).read_text(encoding="utf-8") == printed
    assert fasthelp.answer("--help") is True
    assert capsys.readouterr().out == printed
