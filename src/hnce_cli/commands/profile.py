"""`hnce profile`: named places to work against (a database or an API) and their sessions."""

from __future__ import annotations

from typing import Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, fmt
from hnce_cli.invocation import invocation

app = typer.Typer(help="Profiles: which database or API to use, each with its own login.\n\n"
                  "Example: hnce profile add prod --api https://hnce.example.gov.cn",
                  no_args_is_help=True)


def _show(store, output: str) -> None:  # noqa: ANN001
    from hnce_cli.render import KEY, MAIN, Column, TableView, emit

    rows = [p.public_dict() | {"current": name == store.current}
            for name, p in sorted(store.profiles.items())]
    emit({"current": store.current, "profiles": rows}, output, TableView(rows=rows, columns=[
        Column("", lambda r: "*" if r["current"] else "", priority=KEY),
        Column("名称", lambda r: r["name"], priority=KEY),
        Column("数据库 / API", lambda r: r["api"] or r["db"] or "（默认 SQLite）", priority=MAIN),
        Column("登录账号", lambda r: r["login"], priority=MAIN)]))


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name.")],
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    api: Annotated[str | None, typer.Option("--api", help="URL of an `hnce serve` API.")] = None,
    use: Annotated[bool, typer.Option("--use", help="Also make it the current profile.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Add (or replace) a profile pointing at a database or an API.

    Example: hnce profile add remote --api http://127.0.0.1:8000 --use
    """
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.masking import hide_password
    from hnce_cli.settings import Profile

    if bool(db) == bool(api):
        raise ValidationFailed.one("db", "须且只能指定 --db 或 --api 之一", "give --db URL or --api URL")
    if api and not api.startswith(("http://", "https://")):
        raise ValidationFailed.one("api", f"不是 http(s) 地址：{hide_password(api)}", "e.g. https://hnce.example.gov.cn")
    store = invocation(ctx).profiles
    store.profiles[name] = Profile(name, db=db, api=api.rstrip("/") if api else None)
    if use:
        store.current = name
    store.save()
    _show(store, fmt(json_))


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False, csv_: CsvOpt = False) -> None:
    """List profiles; * marks the current one.

    Example: hnce profile list
    """
    _show(invocation(ctx).profiles, fmt(json_, csv_))


@app.command("use")
def use(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Profile name.")], json_: JsonOpt = False) -> None:
    """Make a profile the current one.

    Example: hnce profile use remote
    """
    store = invocation(ctx).profiles
    store.get(name)  # not found → exit 3
    store.current = name
    store.save()
    _show(store, fmt(json_))


@app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Profile name.")],
           json_: JsonOpt = False) -> None:
    """Remove a profile and its stored session.

    Example: hnce profile remove old
    """
    from hnce_cli.settings import DEFAULT_PROFILE

    store = invocation(ctx).profiles
    store.get(name)
    del store.profiles[name]
    if store.current == name:
        store.current = DEFAULT_PROFILE
    store.save()
    _show(store, fmt(json_))
