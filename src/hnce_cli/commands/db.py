"""`hnce db`: create and migrate the database, make the first system admin."""

from __future__ import annotations

from typing import Annotated

import typer

from hnce_cli.commands._common import JsonOpt, PasswordStdinOpt, fmt, get_backend, read_secret

app = typer.Typer(help="Database: migrate, initialise.\n\nExample: hnce db upgrade",
                  no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Create the database if needed and migrate it to this version's schema.

    Also loads the reference data (regions, temporary management units).

    Example: hnce --db postgresql://hnce@db/hnce db upgrade
    """
    from hnce_cli.render import emit, print_details

    info = get_backend(ctx).db_upgrade()
    emit(info, fmt(json_), details=lambda: print_details("数据库已是最新 (database up to date)", [
        ("数据库", info.url), ("类型", info.dialect),
        ("原版本", info.revision_before or "（新建）"), ("现版本", info.revision)]))


@app.command("init")
def init(
    ctx: typer.Context,
    login: Annotated[str, typer.Option(help="Login name of the first system admin.")],
    name: Annotated[str, typer.Option(help="The admin's real name.")],
    password_stdin: PasswordStdinOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Create the first system admin (only once per database).

    Example: hnce db init --login admin --name 张三
    """
    from hnce_cli.commands.account import render_account

    password = read_secret(ctx, "password", from_stdin=password_stdin, confirm=True)
    account = get_backend(ctx).db_init(login, name, password)
    render_account(account, fmt(json_), "已创建系统管理员 (system admin created)")
