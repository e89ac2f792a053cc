"""`hnce rules`: the rules of each year 学时要求 (minimum credits and deadline), as data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, fmt, get_backend

app = typer.Typer(help="Year rules 学时要求: minimum total / professional / public credits and the deadline.\n\n"
                       "Example: hnce rules show 2025", no_args_is_help=True)


def _n(value: float) -> str:
    return f"{value:g}"


@app.command("show")
def show(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Argument(help="One year (default: every year).")] = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
) -> None:
    """Show each year's minimum credits and deadline, and the notice they come from.

    Years come from the package's files, or from the database when the system admin
    loaded them (`hnce rules load`); 2026 repeats 2025's numbers until its notice.

    Example: hnce rules show 2025
    """
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column, TableView, emit
    from hnce_cli.terms import RULES_ORIGINS, SUBJECTS

    result = get_backend(ctx).show_rules(year)
    footnotes = ["学分仅当年有效，不得结转以后年度；公需科目、专业科目和总学分均须达到要求"]
    if result.updated_at:
        footnotes.append(f"数据库中的年度由 {result.updated_by or '系统管理员'} 于 "
                         f"{result.updated_at:%Y-%m-%d %H:%M} (UTC) 载入")
    emit(result, fmt(json_, csv_), TableView(
        title="年度学时要求", rows=result.years, footnotes=footnotes, columns=[
            Column("年度", lambda r: r.year, priority=KEY),
            Column("总学分", lambda r: _n(r.min_total), justify="right", priority=KEY),
            Column(SUBJECTS["professional"], lambda r: _n(r.min_professional), justify="right", priority=KEY),
            Column(SUBJECTS["public"], lambda r: _n(r.min_public), justify="right", priority=KEY),
            Column("截止日期", lambda r: r.deadline, no_wrap=True, priority=MAIN),
            Column("依据", lambda r: r.source, priority=DETAIL),
            Column("来源", lambda r: RULES_ORIGINS.get(r.origin, r.origin), priority=EXTRA)]))


@app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(
        help="JSON: one year's object or a list (see docs/completion.md); - reads standard input.")],
    json_: JsonOpt = False,
) -> None:
    """System admin: add or replace years' rules (checked first, audited, seen by every desk).

    The file has year, min_total, min_professional, min_public, deadline and source
    (the notice); min_total must be at least min_professional + min_public.

    Example: hnce rules load 2027.json
    """
    import json

    from hnce_cli.errors import ValidationFailed
    from hnce_cli.render import note, print_json

    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ValidationFailed.one("file", f"无法读取 {file}：{exc}", "give a JSON file") from exc
    result = get_backend(ctx).load_rules(data)  # the service checks the shape and every field
    if json_:
        print_json(result)
    else:
        for r in result.years:
            if r.year in result.loaded:
                note(f"已载入 {r.year} 年度：总学分 ≥ {_n(r.min_total)}，专业科目 ≥ {_n(r.min_professional)}，"
                     f"公需科目 ≥ {_n(r.min_public)}，截止 {r.deadline}（{r.source}）")
