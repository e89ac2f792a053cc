"""`hnce db`: create and migrate the database, make the first system admin."""

from __future__ import annotations

from typing import Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, PasswordStdinOpt, fmt, get_backend, read_secret
from hnce_cli.errors import ExitCode

app = typer.Typer(help="Database: migrate, initialise, check.\n\nExample: hnce db upgrade",
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


@app.command("check")
def check(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="List at most this many (all are counted).")] = 1000,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
) -> None:
    """List stored values that break the text policy: control, bidi or invisible characters,
    over-long or not NFC-normalised text in names, units, reasons, form answers and file
    names (rows written before the policy, or straight into the database). Exit 7 when
    there are any, 0 when there are none. System admin.

    Example: hnce db check --csv > 待更正.csv
    """
    from hnce_cli.render import KEY, MAIN, Column, TableView, emit

    result = get_backend(ctx).check_text(limit)
    summary = f"共检查 {result.checked} 个值，{result.found} 个不符合文本规范"
    if result.truncated:
        summary += f"（仅列出前 {len(result.findings)} 个；--limit 调整）"
    footnotes = [summary + "；请更正后重新检查" if result.found else f"共检查 {result.checked} 个值，全部符合文本规范"]
    emit(result, fmt(json_, csv_), TableView(
        title="不符合文本规范的记录", rows=result.findings, footnotes=footnotes, columns=[
            Column("表", lambda f: f.table_label, priority=KEY), Column("编号", lambda f: f.id, "right", priority=KEY),
            Column("字段", lambda f: f.field_label, priority=KEY), Column("问题", lambda f: f.problem, priority=MAIN),
            Column("内容", lambda f: f.value, priority=MAIN)]))
    if result.found:
        raise typer.Exit(int(ExitCode.PARTIAL))
