"""Accounts: log in and out, who am I, and admin accounts made by the system admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import (
    CsvOpt,
    JsonOpt,
    NoPagerOpt,
    PasswordStdinOpt,
    WideOpt,
    fmt,
    get_backend,
    interactive,
    read_secret,
)
from hnce_cli.invocation import invocation

if TYPE_CHECKING:
    from hnce_cli.schemas import AccountOut

app = typer.Typer(help="Admin accounts (system admin only).\n\n"
                  "Example: hnce account add --role unit_admin --login u1 --name 李四 --unit 12",
                  no_args_is_help=True)


def render_account(account: AccountOut, output: str, title: str) -> None:
    from hnce_cli.render import emit, print_details

    emit(account, output, details=lambda: print_details(title, [
        ("账号", account.login), ("姓名", account.name), ("角色", account.role_label),
        ("管理单位", ", ".join(map(str, account.unit_ids)) or None),
        ("管理区域", account.region_code)]))


def login(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(
        help="Login: an ID number for professionals, a login name for admins.")] = None,
    password_stdin: PasswordStdinOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Log in; the session is kept in the current profile (file mode 600).

    Example: echo "$PW" | hnce login 410105199001011233 --password-stdin
    """
    from hnce_cli.errors import ValidationFailed

    if not account:
        if not interactive(ctx):
            raise ValidationFailed.one("account", "缺少账号", "give the login as an argument")
        import questionary

        account = questionary.text("账号（身份证号或管理员账号）：").unsafe_ask()
    password = read_secret(ctx, "password", from_stdin=password_stdin)
    run = invocation(ctx)
    result = run.backend.login(account or "", password)
    run.profile.token, run.profile.login = result.token, result.account.login
    run.profiles.save()
    render_account(result.account, fmt(json_), "登录成功 (logged in)")


def logout(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Log out: revoke the session and forget it.

    Example: hnce logout
    """
    from hnce_cli.errors import AuthRequired
    from hnce_cli.render import emit, note

    run = invocation(ctx)
    profile = run.profile
    expired = False
    if profile.token:
        try:
            get_backend(ctx).logout()
        except AuthRequired:
            # Expired or already revoked: nothing left to revoke, but the stale token
            # must still go, or every later command would keep failing with it.
            expired = True
    profile.token, profile.login = None, None
    run.profiles.save()
    message = ("会话已过期或已失效，已清除本地保存的登录 (session had already expired; "
               "the stored token was removed)" if expired else "已退出登录 (logged out)")
    emit({"logged_out": True, "session_expired": expired}, fmt(json_),
         details=lambda: note(message))


def whoami(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Show who the current session belongs to.

    Example: hnce whoami --json
    """
    render_account(get_backend(ctx).whoami(), fmt(json_), "当前账号")


@app.command("add")
def add(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(
        help="unit_admin | hr | support | institution | system_admin")],
    login_name: Annotated[str, typer.Option("--login", help="Login name.")],
    name: Annotated[str, typer.Option(help="Real name.")],
    unit: Annotated[list[str] | None, typer.Option(
        help="Unit id, USCC or full name a unit admin manages (repeatable).")] = None,
    region: Annotated[str | None, typer.Option(
        help="City or province code an HR reviewer works for, e.g. 410100.")] = None,
    password_stdin: PasswordStdinOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Create an admin account with its scope (system admin only).

    Example: hnce account add --role unit_admin --login zz-admin --name 李四 --unit 91410100MA44XXXX1M
    """
    from hnce_cli.schemas import AccountInput

    password = read_secret(ctx, "password", from_stdin=password_stdin, confirm=True)
    data = AccountInput.model_validate({"login": login_name, "name": name, "role": role,
                                        "password": password, "units": unit or [],
                                        "region": region})
    render_account(get_backend(ctx).create_account(data), fmt(json_), "已创建账号")


@app.command("locks")
def locks(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="List at most this many (all are counted).")] = 100,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """List the logins and addresses made to wait after wrong passwords (system admin).

    Example: hnce account locks
    """
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column, TableView, emit

    result = get_backend(ctx).login_locks(limit)
    footnotes = [f"共 {result.total} 条（近 24 小时）；解除：hnce account unlock 账号 [--client 地址]"]
    emit(result, fmt(json_, csv_), TableView(
        title="登录失败等待", rows=result.locks, footnotes=footnotes, columns=[
            Column("账号", lambda r: r.login, priority=KEY), Column("来源地址", lambda r: r.client, priority=KEY),
            Column("连续失败", lambda r: r.failures, "right", priority=MAIN),
            Column("最近失败", lambda r: r.last_failed_at, no_wrap=True, priority=EXTRA),
            Column("等待至", lambda r: r.locked_until, no_wrap=True, priority=DETAIL),
            Column("剩余秒数", lambda r: r.wait_seconds, "right", priority=MAIN),
            Column("账户姓名", lambda r: r.account_name if r.account_name is not None else "（无此账号）",
                   priority=DETAIL)]))


@app.command("unlock")
def unlock(
    ctx: typer.Context,
    login_name: Annotated[str, typer.Argument(metavar="LOGIN", help="The login (ID number or admin login).")],
    client: Annotated[str | None, typer.Option(
        help="Only the failures from this address (as `account locks` shows it).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Forget a login's wrong passwords so it may be tried at once (system admin).

    Example: hnce account unlock zz-admin --client 10.1.2.3
    """
    from hnce_cli.render import emit, print_details

    result = get_backend(ctx).unlock_login(login_name, client)
    emit(result, fmt(json_), details=lambda: print_details(
        "已解除登录等待" if result.cleared else "没有需要解除的登录等待 (nothing to clear)",
        [("账号", result.login), ("来源地址", result.client or "全部"), ("清除记录", result.cleared)]))
