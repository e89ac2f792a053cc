"""`hnce forms`: the learning forms 学习形式 a declaration can use (data, replaceable)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, fmt, get_backend

app = typer.Typer(help="Learning forms 学习形式: their fields and credit rules.\n\nExample: hnce forms show paper",
                  no_args_is_help=True)
MODES = {"per_day": "按天", "per_item": "按项", "by_role": "按角色/级别", "entered": "填写", "fixed": "固定"}


def _rule(form) -> str:  # noqa: ANN001
    r = form.credits
    if r.mode in ("per_day", "per_item"):
        text = f"{r.rate:g} × {r.count_field}"
    elif r.mode == "by_role":
        text = " / ".join(f"{k} {v:g}" for k, v in (r.roles or {}).items())
    elif r.mode == "fixed":
        text = f"{r.rate:g}"
    else:
        text = f"≤ {r.max_entered:g}"
    return f"{MODES[r.mode]}：{text}" + (f"（上限 {r.cap:g}）" if r.cap else "")


@app.command("show")
def show(
    ctx: typer.Context,
    form: Annotated[str | None, typer.Argument(help="One form (code or name): show its fields.")] = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
) -> None:
    """List the learning forms, or the fields of one.

    Example: hnce forms show 学术会议
    """
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.render import DETAIL, KEY, MAIN, Column, TableView, emit

    result = get_backend(ctx).list_forms()
    output = fmt(json_, csv_)
    if form:
        chosen = next((f for f in result.forms if form.strip() in (f.code, f.name)), None)
        if chosen is None:
            raise ValidationFailed.one("form", f"没有这种学习形式：{form}",
                                       "choose one of: " + ", ".join(f.code for f in result.forms))
        emit(chosen, output, TableView(
            title=f"{chosen.name}（{chosen.code}）· {_rule(chosen)}", rows=chosen.fields,
            footnotes=[chosen.note or ""], columns=[
                Column("字段", lambda f: f.name, priority=KEY), Column("名称", lambda f: f.label, priority=KEY),
                Column("类型", lambda f: f.type, priority=DETAIL), Column("必填", lambda f: f.required, priority=MAIN),
                Column("取值", lambda f: " / ".join(f.choices) if f.choices else (
                    f"{f.min:g}–{f.max:g}" if f.min is not None and f.max is not None else ""), priority=MAIN)]))
        return
    source = "软件内置" if result.source == "package" else f"系统管理员 {result.updated_by or ''} 于数据库中设置"
    emit(result, output, TableView(
        title=f"学习形式（计入科目：{result.subject_label}，不可修改）", rows=result.forms,
        footnotes=[f"来源：{source}；某一形式的字段：hnce forms show 代码"], columns=[
            Column("代码", lambda f: f.code, priority=KEY), Column("学习形式", lambda f: f.name, priority=KEY),
            Column("标准", lambda f: "国家" if f.standard == "national" else "省定（可调整）", priority=DETAIL),
            Column("学分计算", _rule, priority=MAIN)]))


@app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A JSON file: the list of forms (see docs/declarations.md).")],
    json_: JsonOpt = False,
) -> None:
    """System admin: replace the learning forms (checked first, audited).

    Example: hnce forms show --json > forms.json  (edit)  hnce forms load forms.json
    """
    import json

    from hnce_cli.errors import ValidationFailed
    from hnce_cli.render import note

    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ValidationFailed.one("file", f"无法读取 {file}：{exc}", "give a JSON file") from exc
    result = get_backend(ctx).load_forms(data)
    if json_:
        from hnce_cli.render import print_json

        print_json(result)
    else:
        note(f"已载入 {len(result.forms)} 种学习形式：" + "、".join(f.name for f in result.forms))
