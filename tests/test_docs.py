"""The docs against the CLI (in the style of sqlite-utils' docs tests).

- every command and sub-command on the Typer app is mentioned as `hnce <path>`;
- every command line in a docs code block names a real command, and every long
  option on it appears in that command's --help output;
- every ExitCode is in docs/exit-codes.md with its number.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from hnce_cli.cli import COMMANDS, app, load_command
from hnce_cli.errors import ExitCode

DOCS = Path(__file__).resolve().parent.parent / "docs"
ROOT_OPTIONS_WITH_VALUE = {"--db", "--profile", "-p"}
ROOT_FLAGS = {"--version", "--help", "-h"}
FENCE = re.compile(r"^\s*(```|~~~)")
SEPARATORS = {"|", "||", "&&", ";", "&"}
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _pages() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}


@cache
def _root():  # noqa: ANN202  (the Click group Typer builds; built once, it is slow)
    return typer.main.get_command(app)


@cache
def _top() -> dict[str, object]:
    """The root's commands, each loaded from the registry (the root group loads them lazily)."""
    return {name: load_command(name) for name in COMMANDS}


def _children(command) -> dict:  # noqa: ANN001
    return _top() if command is _root() else (getattr(command, "commands", None) or {})


def _command(path: tuple[str, ...]):  # noqa: ANN202
    command = _root()
    for name in path:
        command = _children(command)[name]
    return command


def _commands() -> list[tuple[str, ...]]:
    """Every command path under the root, groups included: ("unit",), ("unit", "add"), …"""
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:  # noqa: ANN001
        for name, sub in _children(command).items():
            if getattr(sub, "hidden", False):
                continue
            paths.append((*path, name))
            walk(sub, (*path, name))

    walk(_root(), ())
    return paths


def _subcommands(path: tuple[str, ...]) -> set[str]:
    return set(_children(_command(path)))


@cache
def _help_options(path: tuple[str, ...]) -> frozenset[str]:
    """The long options that `hnce <path> --help` lists."""
    command = _root()
    ctx = command.context_class(command, info_name="hnce")
    for name in path:
        command = _children(command)[name]
        ctx = command.context_class(command, info_name=name, parent=ctx)
    text = command.get_help(ctx)
    return frozenset(OPTION.findall(text.split("Options:", 1)[-1]))


def test_help_is_what_the_cli_prints() -> None:
    """_help_options reads the same text as `hnce unit add --help` (spot check)."""
    result = CliRunner().invoke(app, ["unit", "add", "--help"], prog_name="hnce")
    assert result.exit_code == 0
    assert set(OPTION.findall(result.output)) == _help_options(("unit", "add"))


def _code_lines() -> list[tuple[str, int, str]]:
    """Command lines inside fenced code blocks, continuation lines joined."""
    found = []
    for page, text in _pages().items():
        inside, pending, start = False, "", 0
        for number, line in enumerate(text.splitlines(), start=1):
            if FENCE.match(line):
                inside, pending = not inside, ""
                continue
            if not inside:
                continue
            if not pending:
                start = number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            found.append((page, start, pending + line))
            pending = ""
    return found


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # not shell (a JSON or config line): whitespace is close enough
        return line.split("#", 1)[0].split()


def _invocations(line: str) -> list[list[str]]:
    """Each `hnce …` command in a shell line, from `hnce` up to a pipe, redirect or `;`.

    Leading `VAR=value` assignments and a `$ ` prompt are allowed before `hnce`.
    """
    runs: list[list[str]] = []
    segment: list[str] = []
    for token in [*_tokens(line.strip().removeprefix("$ ")), ";"]:
        if token in SEPARATORS or set(token) <= set("<>&|;()"):
            words = segment
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words = words[1:]
            if words and words[0] == "hnce":
                runs.append(words[1:])
            segment = [] if token in SEPARATORS else ["<redirect>"]
            continue
        if segment[:1] != ["<redirect>"]:
            segment.append(token)
    return runs


def _resolve(args: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Split an invocation into its command path and the rest, skipping root options."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        name = args[i].split("=", 1)[0]
        if name in ROOT_OPTIONS_WITH_VALUE:
            i += 1 if "=" in args[i] else 2
        elif name in ROOT_FLAGS:
            i += 1
        else:
            break
    path: tuple[str, ...] = ()
    while i < len(args) and args[i] in _subcommands(path):
        path = (*path, args[i])
        i += 1
    return path, args[i:]


def test_every_command_is_documented() -> None:
    text = "\n".join(_pages().values())
    missing = [
        "hnce " + " ".join(path) for path in _commands()
        if not re.search(r"hnce " + r"\s+".join(map(re.escape, path)) + r"(?![\w-])", text)
    ]
    assert not missing, f"commands not mentioned in docs/*.md: {missing}"


def test_documented_command_lines_use_real_commands_and_options() -> None:
    problems = []
    checked = 0
    for page, number, line in _code_lines():
        for args in _invocations(line):
            path, rest = _resolve(args)
            where = f"{page}:{number}: {line.strip()}"
            if not path:
                if any(not a.startswith("-") for a in rest):
                    problems.append(f"{where}\n    unknown command {rest[0]!r}")
                continue
            checked += 1
            subcommands = _subcommands(path)
            if subcommands and rest and not rest[0].startswith("-"):
                problems.append(f"{where}\n    hnce {' '.join(path)} has no command {rest[0]!r}")
            known = _help_options(path)
            for arg in rest:
                option = arg.split("=", 1)[0]
                if option.startswith("--") and option != "--" and option not in known:
                    problems.append(f"{where}\n    hnce {' '.join(path)} has no option {option}")
    assert checked > 20, "found too few command lines in the docs: is the parser broken?"
    assert not problems, "docs disagree with --help:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda c: c.name)
def test_exit_code_is_documented(code: ExitCode) -> None:
    text = (DOCS / "exit-codes.md").read_text(encoding="utf-8")
    row = re.compile(rf"^\|\s*{int(code)}\s*\|\s*`?{code.name}`?\s*\|", re.MULTILINE)
    assert row.search(text), f"docs/exit-codes.md has no table row for {int(code)} {code.name}"


def test_parser_sees_pipes_prompts_and_root_options() -> None:
    runs = _invocations('echo "$PW" | HNCE_X=1 hnce -p demo login 4101 --password-stdin > out # c')
    assert runs == [["-p", "demo", "login", "4101", "--password-stdin"]]
    assert _resolve(["--db", "sqlite:///x.db", "unit", "add", "--name", "x"]) == (
        ("unit", "add"), ["--name", "x"])
    assert _resolve(["--db=x", "approve", "--all"]) == (("approve",), ["--all"])


ID_OR_USCC = re.compile(r"(?<![0-9A-Za-z])([0-9A-Z]{17}[0-9A-Z])(?![0-9A-Za-z])")


def _check_char_problems(text: str) -> list[str]:
    """Every 18-character ID number or unified social credit code in `text` whose check
    character is wrong: examples get copied, and a copied wrong one is refused."""
    from hnce_cli.validation import id_check_char, uscc_check_char

    problems = []
    for token in ID_OR_USCC.findall(text):
        first17, check = token[:17], token[17]
        if first17.isdigit() and first17[6:8] in ("19", "20"):  # area + birth date: an ID number
            want = id_check_char(first17)
            kind = "ID number"
        elif token[:1].isdigit() and not token.isalpha():
            try:
                want = uscc_check_char(first17)
            except ValueError:
                problems.append(f"{token}: not a unified social credit code")
                continue
            kind = "USCC"
        else:
            continue
        if check != want:
            problems.append(f"{token}: {kind} check character should be {want}")
    return problems


def test_check_char_finder_catches_a_wrong_one() -> None:
    assert _check_char_problems("hnce status 410105199001011233 --uscc 91410105MA44ABCD1P") == []
    assert len(_check_char_problems("410105199001011234 91410105MA44ABCD1X")) == 2


def test_example_id_numbers_and_codes_have_valid_check_characters() -> None:
    """README.md, docs/*.md and every --help text."""
    texts = {"README.md": (DOCS.parent / "README.md").read_text(encoding="utf-8"),
             **{f"docs/{k}": v for k, v in _pages().items()}}
    root = _root()
    texts["hnce --help"] = root.get_help(root.context_class(root, info_name="hnce"))
    for path in _commands():
        command, ctx = root, root.context_class(root, info_name="hnce")
        for name in path:
            command = _children(command)[name]
            ctx = command.context_class(command, info_name=name, parent=ctx)
        texts[f"hnce {' '.join(path)} --help"] = command.get_help(ctx)
    problems = [f"{where}: {p}" for where, text in texts.items() for p in _check_char_problems(text)]
    assert not problems, "\n".join(problems)
