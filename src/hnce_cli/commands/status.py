"""`hnce status`: one professional at a glance (support's look-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, NoPagerOpt, WideOpt, fmt, get_backend, interactive
from hnce_cli.i18n import words

if TYPE_CHECKING:
    from hnce_cli.schemas import ProfessionalOut


def status(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="ID number, mobile number or full name.")],
    declarations: Annotated[bool, typer.Option(
        "--declarations", "-d", help="Their credit declarations instead (申报进度查询).")] = False,
    filter_: Annotated[str, typer.Option(
        "--filter", help="With --declarations: all | draft | pending | approved | rejected.")] = "all",
    limit: Annotated[int, typer.Option(help="With --declarations: rows to show (0: all).")] = 100,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Look up a professional: profile, unit and registration state.

    ID numbers and phones are masked (410105********1234) unless your role may
    see them. Several matches: a pick list on a terminal, a table otherwise.

    \b
    Examples:
      hnce status 13800138000
      hnce status 410105199001011233 --declarations --filter pending
    """
    from hnce_cli.render import TableView, emit

    if declarations:
        from hnce_cli.commands.declare import parse_filter, render_list
        from hnce_cli.schemas import DeclarationQuery

        # checked input: the person is looked up by the service, the filter by its words
        found = get_backend(ctx).list_declarations(
            DeclarationQuery.model_construct(person=query, filter=parse_filter(filter_)), limit or None)
        render_list(found, fmt(json_, csv_))
        return

    result = get_backend(ctx).lookup(query)
    output = fmt(json_, csv_)
    if len(result.matches) == 1 or (output == "table" and interactive(ctx)):
        person = result.matches[0] if len(result.matches) == 1 else _pick(result.matches)
        emit(result, output, TableView(rows=[person], columns=_columns()) if csv_ else None,
             details=lambda: show_person(person))
        return
    emit(result, output, TableView(
        title=words("找到 {count} 人").format(
            count=result.total if result.total <= len(result.matches) else "50+"),
        rows=result.matches, columns=_columns()))


def _columns() -> list:
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column

    return [
        Column("身份证号", lambda p: p.id_number, priority=KEY), Column("姓名", lambda p: p.name, priority=KEY),
        Column("手机", lambda p: p.mobile, no_wrap=True, priority=EXTRA),
        Column("所在单位", lambda p: p.unit_name, priority=MAIN),
        Column("区域", lambda p: p.region_name, priority=DETAIL),
        Column("状态", lambda p: p.status_label, priority=KEY),
    ]


def _pick(people: list[ProfessionalOut]) -> ProfessionalOut:
    import questionary

    from hnce_cli.text import visible

    choices = [questionary.Choice(visible(f"{p.name}  {p.id_number}  {p.unit_name}  {p.status_label}"),
                                  value=i) for i, p in enumerate(people)]
    return people[questionary.select("找到多人，请选择：", choices=choices).unsafe_ask()]


def show_person(p: ProfessionalOut) -> None:
    from hnce_cli.render import print_details

    pairs = [
        ("姓名", p.name), ("身份证号", p.id_number), ("性别", p.gender),
        ("出生日期", p.birth_date), ("手机号码", p.mobile), ("电子邮箱", p.email),
        ("所在单位", p.unit_name),  # as the services word it (terms.unit_label)
        ("所属区域", p.region_name), ("工作部门", p.department), ("民族", p.ethnicity),
        ("籍贯", p.native_place), ("毕业院校", p.school), ("所学专业", p.major),
        ("专业技术职务", p.title), ("注册状态", p.status_label), ("注册时间", p.registered_at),
        ("审核时间", p.decided_at), ("审核人", p.decided_by), ("不通过原因", p.reject_reason),
    ]
    print_details(f"{p.name} · {p.status_label}", [(k, v) for k, v in pairs if v not in (None, "")])
