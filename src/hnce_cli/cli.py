"""The `hnce` command line. Every command module is cheap to import; heavy
libraries (SQLAlchemy, rich, httpx, questionary) load inside the commands."""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer

from hnce_cli import __version__
from hnce_cli.commands import (
    account,
    approve,
    certificate,
    completion,
    db,
    declare,
    demo,
    forms,
    profile,
    register,
    review,
    rules,
    serve,
    status,
    sync,
    unit,
)
from hnce_cli.commands._common import Globals

app = typer.Typer(
    name="hnce",
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
) -> None:
    ctx.obj = Globals(db=db_url, profile=profile)


app.add_typer(db.app, name="db")
app.add_typer(unit.app, name="unit")
app.add_typer(account.app, name="account")
app.command("login")(account.login)
app.command("logout")(account.logout)
app.command("whoami")(account.whoami)
app.command("register")(register.register)
app.command("approve")(approve.approve)
app.command("status")(status.status)
app.add_typer(declare.app, name="declare")
app.command("review")(review.review)
app.add_typer(forms.app, name="forms")
app.add_typer(certificate.app, name="certificate")
app.add_typer(rules.app, name="rules")
app.command("completion")(completion.completion)
app.add_typer(sync.app, name="sync")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.add_typer(profile.app, name="profile")


ROOT_OPTIONS_WITH_VALUE = ("--db", "--profile", "-p")


def _only_the_invoked_command(args: list[str]) -> None:
    """Let typer build only the command being run. It otherwise builds every command
    of every group (≈ 0.1 s, growing with each command) before running one. The root
    help, an unknown name or anything unusual keeps the whole tree."""
    name = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ROOT_OPTIONS_WITH_VALUE:
            i += 2
        elif arg.startswith(tuple(f"{o}=" for o in ROOT_OPTIONS_WITH_VALUE)):
            i += 1
        elif arg.startswith("-"):
            return  # --help, --version or a mistake: typer's full answer
        else:
            name = arg
            break
    if name is None:
        return
    commands = {(c.name or getattr(c.callback, "__name__", "")).replace("_", "-"): c
                for c in app.registered_commands}
    groups = {g.name: g for g in app.registered_groups}
    if None in groups or len(commands) != len(app.registered_commands):
        return
    if name in commands:
        app.registered_commands, app.registered_groups = [commands[name]], []
    elif name in groups:
        app.registered_commands, app.registered_groups = [], [groups[name]]


def main() -> None:
    """Run the CLI, turning expected errors into messages and exit codes."""
    from hnce_cli.errors import HnceError

    as_json = "--json" in sys.argv
    # A command is one batch of work: approving 100,000 builds several hundred
    # thousand objects, and at the default thresholds (a collection every 700
    # allocations) the cycle collector ran ~630 times and took 0.2 s of that
    # command. Reference counting frees nearly everything; the rare cycles wait for
    # a larger batch (0.08 s; `hnce serve` keeps the same setting, a few MB at most).
    gc.set_threshold(50_000, 20, 20)
    _only_the_invoked_command(sys.argv[1:])
    try:
        app()
    except HnceError as exc:
        from hnce_cli.render import render_error

        sys.exit(render_error(exc, as_json))
    except KeyboardInterrupt:
        sys.stderr.write("已取消 (cancelled)\n")
        sys.exit(130)
    except Exception as exc:  # a bug: short message, traceback only on request
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            from hnce_cli.errors import from_pydantic
            from hnce_cli.render import render_error

            sys.exit(render_error(from_pydantic(exc), as_json))
        if os.environ.get("HNCE_DEBUG"):
            raise
        sys.stderr.write(
            f"内部错误 (internal error): {type(exc).__name__}: {exc}\n"
            "Run again with HNCE_DEBUG=1 for the traceback and report it.\n"
        )
        sys.exit(1)
