"""The `hnce` command line: a lazy registry of commands, the root options, and the one
place where errors become messages and exit codes.

`COMMANDS` names every command, the module that holds it and its one-line summary.
The root help is printed from this table without importing a command module; a
command's module is imported only when it runs (or its own --help is asked for).
How to add a command: docs/architecture.md.
"""

from __future__ import annotations

import gc
import os
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from hnce_cli import __version__
from hnce_cli.i18n import HelpContext

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter

# name: ("module:attribute", summary shown by `hnce --help`). The attribute is a typer
# app (a command group) or a command function; tests hold each summary equal to the first
# line of the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "login": ("account:login", "Log in; the session is kept in the current profile (file mode 600)."),
    "logout": ("account:logout", "Log out: revoke the session and forget it."),
    "whoami": ("account:whoami", "Show who the current session belongs to."),
    "register": ("register:register",
                 "Register a professional; the registration waits for the unit's approval (待审核)."),
    "approve": ("approve:approve", "Approve (or --reject) pending registrations of your units (unit admins)."),
    "status": ("status:status", "Look up a professional: profile, unit and registration state."),
    "inbox": ("inbox:inbox", "Everything awaiting your decision (待审核), workflow by workflow."),
    "review": ("review:review", "Approve (or --reject) what awaits your review: declarations, or another KIND."),
    "completion": ("completion:completion",
                   "Annual completion 年度完成情况: credits of each year against that year's rules."),
    "demo": ("demo:demo", "Build a realistic sample province and walk through approving and looking up."),
    "serve": ("serve:serve", "Serve the hnce API for remote CLIs (`hnce profile add NAME --api URL`)."),
    "db": ("db:app", "Database: migrate, initialise, check."),
    "unit": ("unit:app", "Units (用人单位) and regions: add, import, search, show."),
    "account": ("account:app", "Admin accounts (system admin only)."),
    "declare": ("declare:app", "Declare credits (学时(分)申报) and follow them (申报进度查询)."),
    "forms": ("forms:app", "Learning forms 学习形式: their fields and credit rules."),
    "certificate": ("certificate:app", "Certificates of a passed year (年度证书): print, verify, revoke, batch."),
    "rules": ("rules:app", "Year rules 学时要求: minimum total / professional / public credits and the deadline."),
    "sync": ("sync:app", "National-platform reconciliation 学分同步: import its export, export ours."),
    "profile": ("profile:app", "Profiles: which database or API to use, each with its own login."),
    "shell-completion": ("shell_completion:shell_completion",
                         "Print the completion script of your shell: commands, options and sub-commands "
                         "complete with Tab."),
}


def load_command(name: str) -> Command:
    """The click command of a registered name, built from its module (imported now)."""
    from importlib import import_module

    location, _ = COMMANDS[name]
    module, attribute = location.split(":")
    target = getattr(import_module(f"hnce_cli.commands.{module}"), attribute)
    if isinstance(target, typer.Typer):
        command = _group(target)
    else:
        single = typer.Typer(add_completion=False)  # shell completion is `hnce shell-completion`
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _plain_help(command)
    return command


class _OnDemand(dict):
    """A group's subcommands, each built by typer when first asked for: a run builds the one
    it invokes (building all of `hnce declare`'s took 11 ms), `--help` builds every one."""

    def __init__(self, app: typer.Typer) -> None:
        super().__init__()
        self.infos = {(info.name or info.callback.__name__).replace("_", "-"): info  # type: ignore[union-attr]
                      for info in app.registered_commands}
        self.app = app

    def _build(self, name: str) -> Any:
        if not dict.__contains__(self, name):
            command = typer.main.get_command_from_info(
                command_info=self.infos[name], pretty_exceptions_short=self.app.pretty_exceptions_short,
                rich_markup_mode=None)
            command.context_class = HelpContext
            dict.__setitem__(self, name, command)
        return dict.__getitem__(self, name)

    def __getitem__(self, name: str) -> Any:
        if name not in self.infos:
            raise KeyError(name)
        return self._build(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._build(name) if name in self.infos else default

    def __contains__(self, name: object) -> bool:
        return name in self.infos

    def __iter__(self) -> Any:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)

    def keys(self) -> Any:  # type: ignore[override]
        return self.infos.keys()

    def values(self) -> Any:  # type: ignore[override]
        return [self._build(name) for name in self.infos]

    def items(self) -> Any:  # type: ignore[override]
        return [(name, self._build(name)) for name in self.infos]


def _group(app: typer.Typer) -> Any:
    """The click group of a typer app, its subcommands built on demand."""
    import copy

    if app.registered_groups:  # nested groups: typer builds the whole tree
        return typer.main.get_group(app)
    shell = copy.copy(app)
    shell.registered_commands = []
    group = typer.main.get_group(shell)
    group.commands = _OnDemand(app)
    return group


def _plain_help(command: Any) -> None:
    """Help as click writes it (no rich panels), like the root's: examples keep their lines,
    and the text is the same at a terminal, in a pipe and in a test."""
    command.rich_markup_mode = None
    command.context_class = HelpContext  # help in the run's language (i18n.py)
    commands = getattr(command, "commands", None)
    if commands and not isinstance(commands, _OnDemand):  # built on demand: already plain
        for sub in commands.values():
            _plain_help(sub)


class Root(TyperGroup):
    """The root group: commands come from COMMANDS when asked for; expected errors become
    their message and documented exit code here, for the console script and in-process
    runs (tests) alike."""

    context_class = HelpContext

    def main(self, args: Any = None, *rest: Any, **extra: Any) -> Any:
        """One run, in its language (--lang, HNCE_LANG, the locale: i18n.choose), which is
        installed before the command line is even parsed, so click's own messages use it."""
        from hnce_cli import i18n

        previous = i18n.install(i18n.choose(sys.argv[1:] if args is None else args))
        i18n.localise_questionary()
        try:
            return super().main(args, *rest, **extra)
        finally:
            i18n.restore(previous)

    def make_context(self, info_name: str | None, args: list[str], parent: Context | None = None,
                     **extra: Any) -> Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.TyperException as exc:  # a usage error on the root's own options
            from hnce_cli.i18n import localise_usage_error

            localise_usage_error(exc)
            raise

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from the registry's summaries: no command module is imported."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shorten(summary, limit)) for name, (_, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException) as exc:  # click's own: usage errors, exits
            from hnce_cli.i18n import localise_usage_error

            localise_usage_error(exc)  # shown in the run's language
            raise
        except KeyboardInterrupt as stop:  # Ctrl-C; a batch's SIGTERM comes this way too (exit 143)
            code = getattr(stop, "exit_code", 130)
            sys.stderr.write("已取消 (cancelled)\n" if code == 130 else "已取消 (terminated: SIGTERM)\n")
            ctx.exit(code)
        except Exception as exc:  # the one top-level handler: expected errors and bugs become exit codes
            from hnce_cli.invocation import Invocation

            wants_json = isinstance(ctx.obj, Invocation) and ctx.obj.wants_json
            ctx.exit(_exit_code_for(exc, wants_json))


def _shorten(text: str, width: int) -> str:
    """A summary cut to the column like click cuts a command's short help."""
    if len(text) <= width:
        return text
    words, out = text.split(), ""
    for word in words:
        if len(out) + len(word) + 1 > width - 3:
            break
        out = f"{out} {word}".strip()
    return out + "..."


def _exit_code_for(exc: Exception, as_json: bool) -> int:
    """Render an error and return its exit code: a domain error as its message (docs/exit-codes.md),
    a request that broke a schema as a validation error, and anything else as a bug (exit 1)."""
    from hnce_cli.errors import HnceError, internal_error

    if not isinstance(exc, HnceError):
        pydantic = sys.modules.get("pydantic")
        if pydantic is not None and isinstance(exc, pydantic.ValidationError):
            from hnce_cli.errors import from_pydantic

            exc = from_pydantic(exc)
    if not isinstance(exc, HnceError):
        if os.environ.get("HNCE_DEBUG"):
            raise exc
        exc = internal_error(exc)
    from hnce_cli.render import render_error

    return render_error(exc, as_json)


app = typer.Typer(
    name="hnce",
    cls=Root,
    help=(
        "hnce: 河南省会计专业技术人员继续教育平台的终端管理工具.\n\n"
        "Register professionals, approve registrations in batches, look people up.\n\n"
        "Example: hnce demo"
    ),
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


class Language(StrEnum):
    """--lang: read by Root.main before parsing (i18n.choose); the option validates it."""

    zh = "zh"
    en = "en"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hnce {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_url: Annotated[str | None, typer.Option(
        "--db", help="Database URL (sqlite:///path or postgresql://...). Env: HNCE_DATABASE_URL."
    )] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Profile to use (see `hnce profile`). Env: HNCE_PROFILE."
    )] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit."
    )] = False,
    lang: Annotated[Language | None, typer.Option(
        "--lang", help="Language of help and messages: zh (default) or en. Env: HNCE_LANG, else the locale."
    )] = None,
    no_color: Annotated[bool, typer.Option(
        "--no-color", help="No colours or bold, as with NO_COLOR=1 (logs, screen readers)."
    )] = False,
) -> None:
    if no_color and "NO_COLOR" not in os.environ:  # the one switch rich and the renderer honour
        os.environ["NO_COLOR"] = "1"
        ctx.call_on_close(lambda: os.environ.pop("NO_COLOR", None))  # one invocation's setting
    from hnce_cli.clock import using
    from hnce_cli.invocation import Invocation

    run = Invocation(db_flag=db_url, profile_flag=profile)
    ctx.obj = run
    ctx.with_resource(using(run.clock))


def main(args: list[str] | None = None) -> None:
    """The console script: run the CLI (errors already became messages and exit codes)."""
    # A command is one batch of work: approving 100,000 builds several hundred thousand
    # objects, and at the default thresholds (a collection every 700 allocations) the
    # cycle collector ran ~630 times and took 0.2 s of that command. Reference counting
    # frees nearly everything; the rare cycles wait for a larger batch.
    gc.set_threshold(50_000, 20, 20)
    # hnce uses no pydantic plugins; looking for them reads every installed package's
    # metadata (~10 ms of each command's start).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ.get("_HNCE_COMPLETE"):  # the shell asks for completions (hnce shell-completion)
        from typer._completion_classes import completion_init

        completion_init()
    app(args=args, prog_name="hnce")
