"""`hnce unit`: units (用人单位) and regions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, NoPagerOpt, WideOpt, fmt, get_backend

if TYPE_CHECKING:
    from hnce_cli.render import TableView
    from hnce_cli.schemas import UnitOut

app = typer.Typer(help="Units (用人单位) and regions: add, import, search, show.\n\n"
                  "Example: hnce unit search 财政", no_args_is_help=True)


def units_view(units: list[UnitOut], title: str | None = None) -> TableView:
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column, TableView

    return TableView(title=title, rows=units, columns=[
        Column("ID", lambda u: u.id, justify="right", priority=KEY),
        Column("单位名称", lambda u: u.name, priority=MAIN),
        Column("统一社会信用代码", lambda u: u.uscc, no_wrap=True, priority=DETAIL),
        Column("所属区域", lambda u: u.region_name, priority=DETAIL),
        Column("类型", lambda u: u.kind_label, priority=EXTRA),
    ])


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Full name of the unit.")],
    uscc: Annotated[str, typer.Option(help="Unified social credit code (18 characters).")],
    region: Annotated[str, typer.Option(
        help="Region: county code/name, 省直, or a city's 市直 (e.g. 郑州市市直).")],
    json_: JsonOpt = False,
) -> None:
    """Register a unit (system admin).

    \b
    Example:
      hnce unit add --name 河南某某会计师事务所 --uscc 91410105MA44ABCD1P --region 金水区
    """
    from hnce_cli.render import emit
    from hnce_cli.schemas import UnitInput

    unit = get_backend(ctx).add_unit(UnitInput(name=name, uscc=uscc, region=region))
    emit(unit, fmt(json_), units_view([unit], "已登记单位 (unit added)"))


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8/GBK) or XLSX with columns name, uscc, region.")],
    json_: JsonOpt = False,
) -> None:
    """Import units from a file; every row is checked first, then all or none are written.

    Columns: name (or 单位名称), uscc (or 统一社会信用代码), region (or 所属区域).

    Example: hnce unit import units.xlsx
    """
    from hnce_cli.figures import count
    from hnce_cli.render import emit, progress
    from hnce_cli.schemas import UnitInput
    from hnce_cli.tabular import iter_rows

    aliases = {"单位名称": "name", "统一社会信用代码": "uscc", "所属区域": "region"}
    # The province's thousands of units are read, checked and written at once: a spinner meanwhile.
    with progress(f"读取 {file.name}", quiet=json_) as shown:
        rows = [{aliases.get(k, k): v for k, v in row.items()} for row in shown.track(iter_rows(file)) if row]
        data = [UnitInput(name=r.get("name", ""), uscc=r.get("uscc", ""), region=r.get("region", ""))
                for r in rows]
        shown.update(f"检查并导入 {count(len(data))} 个单位…")
        result = get_backend(ctx).import_units(data)
    emit(result, fmt(json_), units_view(result.units, f"已导入 {count(result.created)} 个单位"))


@app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Full name, keywords, or a USCC.")],
    region: Annotated[str | None, typer.Option(help="Only units of this region.")] = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Find units by full name or keywords (all words must appear).

    Example: hnce unit search "郑州 会计师事务所"
    """
    from hnce_cli.render import emit, note

    result = get_backend(ctx).search_units(query, region)
    emit(result, fmt(json_, csv_), units_view(result.units))
    if result.hint and not json_:
        note(result.hint)


@app.command("show")
def show(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="Unit id, USCC or full name.")],
    json_: JsonOpt = False,
) -> None:
    """Show one unit.

    Example: hnce unit show 金水区财政局
    """
    from hnce_cli.render import emit, print_details

    u = get_backend(ctx).show_unit(unit)
    emit(u, fmt(json_), details=lambda: print_details(u.name, [
        ("ID", u.id), ("统一社会信用代码", u.uscc), ("所属区域", f"{u.region_name} ({u.region_code})"),
        ("类型", u.kind_label)], title_is_data=True))


@app.command("regions")
def regions(
    ctx: typer.Context,
    level: Annotated[str | None, typer.Option(
        help="province | city | county | provincial_direct | city_direct")] = None,
    parent: Annotated[str | None, typer.Option(help="Only regions under this one.")] = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """List regions (GB/T 2260 divisions plus 省直 and each city's 市直).

    Example: hnce unit regions --parent 郑州市
    """
    from hnce_cli.render import DETAIL, KEY, Column, TableView, emit
    from hnce_cli.terms import REGION_LEVELS

    rows = get_backend(ctx).list_regions(level, parent)
    emit(rows, fmt(json_, csv_), TableView(rows=rows, columns=[
        Column("代码", lambda r: r.code, priority=KEY), Column("名称", lambda r: r.name, priority=KEY),
        Column("级别", lambda r: REGION_LEVELS.get(r.level, r.level), priority=DETAIL),
        Column("上级", lambda r: r.parent_code, priority=DETAIL)]))
