"""What every command shares: its options, the run's backend, output format, secrets
and confirmations (prompts only on a TTY)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.errors import ValidationFailed
from hnce_cli.invocation import invocation

if TYPE_CHECKING:
    from hnce_cli.backend import Backend

def _json_flag(ctx: typer.Context, value: bool) -> bool:
    """--json also makes errors JSON (docs/exit-codes.md): the run remembers it."""
    if value:
        invocation(ctx).wants_json = True
    return value


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (stable shape, see docs).", callback=_json_flag)]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV (for spreadsheets).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
# A listing's table options, read by the renderer from the running command (render.print_table):
# a narrow terminal leaves low-priority columns out and says which; a long table is paged on
# a terminal (HNCE_PAGER / PAGER; PAGER=cat turns it off).
WideOpt = Annotated[bool, typer.Option(
    "--wide", help="Show every column, even if the table is wider than the terminal.")]
NoPagerOpt = Annotated[bool, typer.Option(
    "--no-pager", help="Do not page a long table on a terminal (also: PAGER=cat).")]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


def get_backend(ctx: typer.Context) -> Backend:
    """The run's backend (made on first use, see Invocation)."""
    return invocation(ctx).backend


def fmt(json_: bool = False, csv_: bool = False) -> str:
    return "json" if json_ else "csv" if csv_ else "table"


def interactive(ctx: typer.Context) -> bool:
    """Prompts only when a person is at a terminal (never in cron or pipes)."""
    return invocation(ctx).interactive()


def read_secret(ctx: typer.Context, field: str, *, from_stdin: bool, confirm: bool = False,
                prompt: str = "密码") -> str:
    """A password from stdin, HNCE_PASSWORD, or a hidden prompt; never from argv."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise ValidationFailed.one(field, "标准输入中没有密码", "pipe the password in")
        return value
    env = invocation(ctx).env.get("HNCE_PASSWORD")
    if env:
        return env
    if not interactive(ctx):
        raise ValidationFailed.one(
            field, "需要密码 (password required)",
            "use --password-stdin or set HNCE_PASSWORD (no prompts without a terminal)",
        )
    import questionary

    value = questionary.password(f"{prompt}：").unsafe_ask()
    if confirm:
        again = questionary.password(f"再次输入{prompt}：").unsafe_ask()
        if again != value:
            raise ValidationFailed.one(field, "两次输入的密码不一致", "type the same password twice")
    return value


CANCELLED = 130  # as for Ctrl-C: the user stopped it, nothing was changed (docs/exit-codes.md)


def confirm(ctx: typer.Context, question: str, yes: bool) -> bool:
    """Ask on a TTY; scripts must pass --yes. A "no" ends the command with exit 130
    (cancelled, nothing changed) rather than the internal-error code 1."""
    if yes:
        return True
    if not interactive(ctx):
        raise ValidationFailed.one("yes", "没有终端，无法确认 (cannot ask without a terminal)",
                                   "add --yes, or --dry-run to preview")
    import questionary

    if not questionary.confirm(question, default=False).unsafe_ask():
        sys.stderr.write("已取消，未做任何修改 (cancelled; nothing was changed)\n")
        raise typer.Exit(CANCELLED)
    return True
