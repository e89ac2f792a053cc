"""What every command shares: global options, the backend, output format, secrets
and confirmations (prompts only on a TTY)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.errors import ValidationFailed

if TYPE_CHECKING:
    from hnce_cli.backend import Backend
    from hnce_cli.settings import Profile, ProfileStore

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (stable shape, see docs).")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV (for spreadsheets).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


@dataclass
class Globals:
    db: str | None = None
    profile: str | None = None


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Globals) else Globals()


def load_profile(ctx: typer.Context) -> tuple[ProfileStore, Profile]:
    from hnce_cli.settings import ProfileStore

    store = ProfileStore.load()
    return store, store.get(globals_of(ctx).profile)


def get_backend(ctx: typer.Context) -> Backend:
    from hnce_cli.backend import open_backend

    _, profile = load_profile(ctx)
    return open_backend(profile, globals_of(ctx).db)


def fmt(json_: bool = False, csv_: bool = False) -> str:
    return "json" if json_ else "csv" if csv_ else "table"


def interactive() -> bool:
    """Prompts only when a person is at a terminal (never in cron or pipes)."""
    if os.environ.get("HNCE_NO_PROMPT"):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def read_secret(field: str, *, from_stdin: bool, confirm: bool = False,
                prompt: str = "密码") -> str:
    """A password from stdin, HNCE_PASSWORD, or a hidden prompt; never from argv."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise ValidationFailed.one(field, "标准输入中没有密码", "pipe the password in")
        return value
    env = os.environ.get("HNCE_PASSWORD")
    if env:
        return env
    if not interactive():
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


def confirm(question: str, yes: bool) -> bool:
    """Ask on a TTY; scripts must pass --yes. A "no" ends the command with exit 130
    (cancelled, nothing changed) rather than the internal-error code 1."""
    if yes:
        return True
    if not interactive():
        raise ValidationFailed.one("yes", "没有终端，无法确认 (cannot ask without a terminal)",
                                   "add --yes, or --dry-run to preview")
    import questionary

    if not questionary.confirm(question, default=False).unsafe_ask():
        sys.stderr.write("已取消，未做任何修改 (cancelled; nothing was changed)\n")
        raise typer.Exit(CANCELLED)
    return True
