"""`hnce completion`: annual completion 年度完成情况 — one person's years (and the
'详细' of each credit), or an admin's unit / region / province for one year."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, NoPagerOpt, WideOpt, fmt, get_backend
from hnce_cli.i18n import words
from hnce_cli.terms import COMPLETION_GROUPS, COMPLETION_RESULTS, SUBJECTS

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from hnce_cli.schemas import (
        CompletionGroup,
        CompletionPage,
        CompletionRow,
        CompletionSummary,
        PersonCompletion,
    )

HEADER = ["年度", "身份证号", "姓名", "单位", "区域代码", SUBJECTS["public"], SUBJECTS["professional"], "总学分",
          "认定结果"]


def _n(value: float | None) -> str:
    return "" if value is None else f"{round(value, 2):g}"


def completion(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Argument(
        help="ID number, mobile or name (default: yourself, for a professional).")] = None,
    year: Annotated[int | None, typer.Option(help="The year (required for unit / region lists).")] = None,
    details: Annotated[bool, typer.Option("--details", "-d", help="Each credit record 详细: source, "
                                                                  "subject, credits, what it came from.")] = False,
    unit: Annotated[str | None, typer.Option(help="Admins: a unit's list (id, USCC or full name).")] = None,
    region: Annotated[str | None, typer.Option(
        help="Admins: a region's list (code or name; 410000 = the province).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Admins: everyone in your scope.")] = False,
    result: Annotated[str | None, typer.Option(help="Lists: only passed 通过 | not_passed 未通过.")] = None,
    by: Annotated[str | None, typer.Option(
        help="Summary instead of the per-person list: people / 通过 / 未通过 / pass rate per "
             "city | county | unit, with the total.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Lists: write the whole list to FILE.csv or FILE.xlsx.")] = None,
    limit: Annotated[int, typer.Option(help="Lists: rows to show on screen (0: all).")] = 100,
    bars: Annotated[bool | None, typer.Option(
        "--bars/--no-bars", show_default=False,
        help="Summary: a bar per group, lowest pass rate first (default: at a terminal; "
             "--no-bars for plain numbers, --bars to keep them in a pipe).")] = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Annual completion 年度完成情况: credits of each year against that year's rules.

    A person: every year with public 公需科目 / professional 专业科目 / total credits
    against the rule and the result (通过 / 未通过 / 未到要求年度); --details lists
    each credit record. A list (--unit, --region or --all with --year): everyone
    approved in it, with counts passed / not passed; -o writes CSV or XLSX.
    ID numbers are masked unless your role may see them.

    \b
    Examples:
      hnce completion
      hnce completion 410105199001011233 --year 2025 --details
      hnce completion --unit 河南测试甲会计师事务所有限公司 --year 2025
      hnce completion --region 410100 --year 2025 --result not_passed -o 未通过.xlsx
      hnce completion --region 410000 --year 2025 --by city
      hnce completion --region 410100 --year 2025 --by county --no-bars
      hnce completion --all --year 2025 --by unit -o 各单位.xlsx
    """
    as_list = bool(unit or region or all_ or output or result or by)
    if not as_list:
        found = get_backend(ctx).person_completion(person, year, details)
        _render_person(found, fmt(json_, csv_), details)
        return
    if output is not None:
        from hnce_cli.tabular import check_output

        check_output(output)  # before a province's query, not after it
    from hnce_cli.schemas import CompletionQuery

    # The service checks the combination (a person with a list, no year, --result with --by, …).
    query = CompletionQuery(year=year, unit=unit, region=region, result=result, person=person)
    if by is not None:
        from hnce_cli.render import progress

        # The province's summary is one grouped aggregate over millions of credits (seconds).
        with progress(f"统计 {year} 年度完成情况", quiet=json_):
            found = get_backend(ctx).completion_summary(query, by)
        _render_summary(found, fmt(json_, csv_), output, sys.stdout.isatty() if bars is None else bars)
        return
    header, rows = get_backend(ctx).completion_list(query)
    _render_list(header, rows, fmt(json_, csv_), output, limit)


# --- one person --------------------------------------------------------------------

def _render_person(found: PersonCompletion, output: str, details: bool) -> None:
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column, TableView, emit, print_table

    def against(value: float, minimum: float | None) -> str:
        return _n(value) if minimum is None else f"{_n(value)} / {_n(minimum)}"

    def result_label(y) -> str:  # noqa: ANN001
        if y.result == "not_passed" and y.open:
            return f"{y.result_label}（截止 {y.deadline} 前仍可完成）"
        return y.result_label

    years = TableView(
        title=f"{found.name}（{found.id_number}）· {found.unit_name} · 年度完成情况", rows=found.years,
        footnotes=["公需科目、专业科目和总学分均达到当年要求即为“通过”；学分仅当年有效，不结转",
                   *([] if details else ["详细：加 --details 查看每条学时记录"])],
        columns=[Column("年度", lambda y: y.year, priority=KEY),
                 Column(SUBJECTS["public"], lambda y: against(y.public, y.min_public), justify="right",
                        no_wrap=True, priority=DETAIL),
                 Column(SUBJECTS["professional"], lambda y: against(y.professional, y.min_professional),
                        justify="right", no_wrap=True, priority=DETAIL),
                 Column("总学分", lambda y: against(y.total, y.min_total), justify="right", no_wrap=True,
                        priority=MAIN),
                 Column("认定结果", result_label, priority=KEY)])
    if output != "table" or not details:
        emit(found, output, years)
        return
    print_table(years)
    records = found.details or []
    print_table(TableView(
        title="详细：学时记录", rows=records,
        footnotes=[] if records else ["（没有学时记录）"],
        columns=[Column("年度", lambda r: r.year, priority=KEY),
                 Column("科目", lambda r: r.subject_label, priority=KEY),
                 Column("学分", lambda r: _n(r.credits), justify="right", priority=KEY),
                 Column("来源", lambda r: r.source_label, priority=DETAIL),
                 Column("内容", lambda r: r.origin, priority=MAIN),
                 Column("记入时间", lambda r: r.created_at, no_wrap=True, priority=EXTRA)]))


# --- lists ---------------------------------------------------------------------------

def _cells(year: int, r: CompletionRow) -> list:
    return [year, r.id_number, r.name, r.unit_name, r.region_code, _n(r.public), _n(r.professional),
            _n(r.total), COMPLETION_RESULTS.get(r.result, r.result)]


def _file_rows(year: int, rows: Iterable[CompletionRow]) -> Iterator[tuple]:
    """Rows for CSV/XLSX: credits as numbers (30, 29.5), the result in words. The hot loop of
    a province's export (a million rows), so no per-cell function calls."""
    labels = COMPLETION_RESULTS
    for _pid, number, name, _unit, unit_name, region, pub, pro, total, result in rows:
        yield (year, number, name, unit_name, region,
               int(pub) if pub.is_integer() else round(pub, 2),
               int(pro) if pro.is_integer() else round(pro, 2),
               int(total) if total.is_integer() else round(total, 2), labels[result])


class _Counter:
    """Counts passed / not passed while the rows stream past (and shows progress: a province's
    export takes a while; render.progress shows it on a terminal's standard error only)."""

    def __init__(self, rows: Iterable[CompletionRow], progress: bool) -> None:
        self.rows, self.progress = rows, progress
        self.counts = {"passed": 0, "not_passed": 0, "no_rules": 0}

    def __iter__(self) -> Iterator[CompletionRow]:
        counts = self.counts
        if not self.progress:
            for r in self.rows:
                counts[r.result] += 1
                yield r
            return
        from hnce_cli.render import progress

        with progress("已写出（人）") as shown:
            for r in shown.track(self.rows, every=20_000):
                counts[r.result] += 1
                yield r


def _render_list(header: CompletionPage, rows: Iterator[CompletionRow], output: str, path: Path | None,
                 limit: int) -> None:
    from hnce_cli.render import DETAIL, KEY, MAIN, Column, TableView, note, print_table

    year = header.year
    counter = _Counter(rows, progress=path is not None and output != "json")
    rules = header.rules
    rule_text = (f"{year} 年度要求：总学分 ≥ {_n(rules.min_total)}，专业科目 ≥ {_n(rules.min_professional)}，"
                 f"公需科目 ≥ {_n(rules.min_public)}" if rules else f"{year} 年度没有学时要求（未到要求年度）")

    def summary() -> str:
        c = counter.counts
        return f"共 {sum(c.values())} 人：通过 {c['passed']} 人，未通过 {c['not_passed']} 人"

    if path is not None:
        from hnce_cli.tabular import write_rows

        write_rows(path, HEADER, _file_rows(year, counter))
        if output == "json":
            from hnce_cli.render import print_json

            print_json({"year": year, "scope": header.scope, "file": str(path), "counts": counter.counts})
        else:
            note(f"{header.scope} · {year} 年度完成情况已写入 {path}；{summary()}")
        return
    if output == "json":
        _stream_json(header, counter)
        return
    if output == "csv":
        from hnce_cli.tabular import write_csv

        write_csv(sys.stdout, HEADER, _file_rows(year, counter), newline="\n")
        return
    shown: list[CompletionRow] = []
    for r in counter:
        if not limit or len(shown) < limit:
            shown.append(r)
    total = sum(counter.counts.values())
    footnotes = [rule_text, summary()]
    if total > len(shown):
        footnotes.append(f"仅显示 {len(shown)} / {total} 人；--limit 0 显示全部，或 -o 文件.csv / 文件.xlsx 导出")
        footnotes.append("按市、区县或单位汇总（人数、通过、未通过、通过率）：加 --by city | county | unit")
    print_table(TableView(
        title=words("{scope} · {year} 年度完成情况").format(scope=header.scope, year=year), rows=shown,
        footnotes=footnotes,
        columns=[Column(h, _cell_getter(year, i),
                        justify="right" if h in (*SUBJECTS.values(), "总学分") else "left",
                        priority=KEY if h in ("身份证号", "姓名", "认定结果") else DETAIL if h == "单位" else MAIN)
                 for i, h in enumerate(HEADER) if h not in ("年度", "区域代码")]))


def _cell_getter(year: int, index: int):  # noqa: ANN202
    return lambda r: _cells(year, r)[index]


def _stream_json(header: CompletionPage, counter: _Counter) -> None:
    """One JSON document, written row by row (a province does not fit a list in memory twice)."""
    import json

    out = sys.stdout
    head = header.model_dump(mode="json", exclude={"rows", "next_after"})
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": [')
    fields = ("professional_id", "id_number", "name", "unit_id", "unit_name", "region_code", "public",
              "professional", "total", "result")
    first = True
    for r in counter:
        out.write(("\n" if first else ",\n") + json.dumps(dict(zip(fields, r, strict=True)), ensure_ascii=False))
        first = False
    out.write('\n], "counts": ' + json.dumps(counter.counts) + "}\n")


# --- the summary (per city / county / unit) ------------------------------------------

def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


_RESULT_HEADERS = [COMPLETION_RESULTS["passed"], COMPLETION_RESULTS["not_passed"]]


def summary_header(by: str) -> list[str]:
    """CSV / XLSX columns of a summary (the total is the last row, 合计)."""
    if by == "unit":
        return ["年度", "单位编号", COMPLETION_GROUPS["unit"], "区域代码", "人数", *_RESULT_HEADERS, "通过率"]
    return ["年度", "区域代码", COMPLETION_GROUPS[by], "人数", *_RESULT_HEADERS, "通过率"]


def summary_cells(found: CompletionSummary) -> list[list]:
    """Rows for CSV / XLSX: counts as numbers, the rate as a percentage text; 合计 last."""
    out = []
    for g in [*found.groups, found.total]:
        rate = _rate(g.pass_rate)
        if found.by == "unit":
            out.append([found.year, g.code, g.name, g.region_code or "", g.people, g.passed, g.not_passed, rate])
        else:
            out.append([found.year, g.code, g.name, g.people, g.passed, g.not_passed, rate])
    return out


def _lowest_first(found: CompletionSummary) -> list[CompletionGroup]:
    """The groups as a person reads them for "which lag": lowest pass rate first (then by
    code, so that equal rates keep a stable order)."""
    return sorted(found.groups, key=lambda g: (g.pass_rate if g.pass_rate is not None else 2.0, g.code))


def _lagging(found: CompletionSummary) -> list[CompletionGroup]:
    """Groups below the whole scope's rate (合计: the province's share for the province)."""
    overall = found.total.pass_rate
    if overall is None:
        return []
    return [g for g in found.groups if g.pass_rate is not None and g.pass_rate < overall]


def _lag_note(found: CompletionSummary) -> str:
    level = COMPLETION_GROUPS[found.by]
    behind = _lagging(found)
    if not behind:
        return f"各{level}通过率均不低于合计（{_rate(found.total.pass_rate)}）"
    return f"▼ 通过率低于合计（{_rate(found.total.pass_rate)}）的{level} {len(behind):,} 个，排在最前"


BAR_FULL, BAR_EMPTY = "█", "░"
FLAG = "▼"


def bar(share: float, width: int) -> str:
    """`████████░░`: a share 0–1 as `width` cells, rounded to the nearest cell."""
    filled = min(width, max(0, round(share * width)))
    return BAR_FULL * filled + BAR_EMPTY * (width - filled)


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns (a CJK character is two) with `…`, then padded."""
    from hnce_cli.render import cell_width

    if cell_width(text) > width:
        cut, used = "", 0
        for char in text:
            if used + cell_width(char) > width - 1:
                break
            cut, used = cut + char, used + cell_width(char)
        text = cut + "…"
    return text + " " * (width - cell_width(text))


def _right(text: str, width: int) -> str:
    from hnce_cli.render import cell_width

    return " " * (width - cell_width(text)) + text


def bar_lines(found: CompletionSummary, columns: int = 80) -> list[str]:
    """The summary as bars, lowest pass rate first, lines at most `columns` wide (CJK names
    counted two columns a character, so the bars line up):

        市                  通过率                          通过   未通过   人数
      ▼ 郑州市              ████░░░░░░░░░░░░░░░░  20.0%        1        4      5

    `▼` marks a group below the whole scope's rate (合计, last). Counts have separators."""
    from hnce_cli.render import cell_width
    from hnce_cli.text import visible

    level = COMPLETION_GROUPS[found.by]
    groups = _lowest_first(found)
    behind = {id(g) for g in _lagging(found)}
    counts_head = ("通过", "未通过", "人数")
    table = [*groups, found.total]
    cells = [(f"{g.passed:,}", f"{g.not_passed:,}", f"{g.people:,}") for g in table]
    count_w = [max(cell_width(counts_head[i]), *(len(c[i]) for c in cells)) for i in range(3)]
    counts_w = sum(2 + w for w in count_w)
    share_w = 7  # " 100.0%"
    names = [visible(g.name) for g in table]
    room = columns - 4 - share_w - counts_w  # 4: the flag column and the gap after the name
    name_w = min(max(cell_width(level), *(cell_width(n) for n in names)), max(6, room - 10))
    bar_w = max(10, min(30, room - 2 - name_w))

    def line(flag: str, name: str, shown_bar: str, share: str, numbers: tuple[str, ...]) -> str:
        text = (f"{flag} {_fit(name, name_w)}  {_fit(shown_bar, bar_w)}{_right(share, share_w)}"
                + "".join("  " + _right(n, w) for n, w in zip(numbers, count_w, strict=True)))
        return text.rstrip()

    title = (f"{visible(found.scope)} · {found.year} 年度完成情况（按{level}，通过率从低到高）")
    out = [title, line(" ", level, "通过率", "", counts_head)]
    for g, name, numbers in zip(table[:-1], names, cells, strict=False):
        out.append(line(FLAG if id(g) in behind else " ", name, bar(g.pass_rate or 0.0, bar_w),
                        _rate(g.pass_rate), numbers))
    out.append("  " + "─" * (min(columns, cell_width(out[1])) - 2))
    total = found.total
    out.append(line(" ", names[-1], bar(total.pass_rate or 0.0, bar_w), _rate(total.pass_rate), cells[-1]))
    return out


def _terminal_columns() -> int:
    import shutil

    return min(shutil.get_terminal_size((80, 24)).columns, 100)


def _render_summary(found: CompletionSummary, output: str, path: Path | None, bars: bool = False) -> None:
    from hnce_cli.render import DETAIL, KEY, MAIN, Column, TableView, note, print_json, print_table

    header = summary_header(found.by)
    if path is not None:
        from hnce_cli.tabular import BarChart, write_rows

        level = COMPLETION_GROUPS[found.by]
        # Beside the table, Excel's own chart: each group's bar split 通过 / 未通过 as shares.
        chart = BarChart(title=f"{found.scope} · {found.year} 年度完成情况（按{level}）", categories=level,
                         series=tuple(_RESULT_HEADERS), percent=True, skip_last=1)
        write_rows(path, header, summary_cells(found), chart=chart)
        t = found.total
        if output == "json":
            print_json({"year": found.year, "scope": found.scope, "by": found.by, "file": str(path),
                        "total": t.model_dump()})
        else:
            note(f"{found.scope} · {found.year} 年度完成情况汇总（按{COMPLETION_GROUPS[found.by]}）已写入 {path}；"
                 f"共 {t.people:,} 人：通过 {t.passed:,} 人，未通过 {t.not_passed:,} 人")
        return
    if output == "json":
        print_json(found)
        return
    if output == "csv":
        from hnce_cli.tabular import write_csv

        write_csv(sys.stdout, header, summary_cells(found), newline="\n")
        return
    rules = found.rules
    rule_text = (f"{found.year} 年度要求：总学分 ≥ {_n(rules.min_total)}，专业科目 ≥ {_n(rules.min_professional)}，"
                 f"公需科目 ≥ {_n(rules.min_public)}；没有学时记录的人计为未通过"
                 if rules else f"{found.year} 年度没有学时要求（未到要求年度）")
    hint = "每人名单：去掉 --by；导出：-o 文件.csv / 文件.xlsx（XLSX 附图表）"
    if rules is not None and found.groups:
        lag = _lag_note(found)
        if bars:
            lines = bar_lines(found, _terminal_columns())
            notes = [part for text in (lag, rule_text, hint) for part in text.split("；")]  # within 80 columns
            sys.stdout.write("\n".join(lines) + "\n\n" + "\n".join(notes) + "\n")
            sys.stdout.flush()
            return
        rows = [*_lowest_first(found), found.total]
        footnotes = [lag, rule_text, hint]
    else:  # no rules that year (no rate to compare), or nobody: the groups in code order
        rows = [*found.groups, found.total]
        footnotes = [rule_text, hint]
    columns = [Column("区域代码", lambda g: g.code if found.by != "unit" else g.region_code, no_wrap=True,
                      priority=DETAIL),
               Column(COMPLETION_GROUPS[found.by], lambda g: g.name, priority=KEY),
               Column("人数", lambda g: f"{g.people:,}", justify="right", priority=MAIN),
               Column(_RESULT_HEADERS[0], lambda g: f"{g.passed:,}", justify="right", priority=MAIN),
               Column(_RESULT_HEADERS[1], lambda g: f"{g.not_passed:,}", justify="right", priority=MAIN),
               Column("通过率", lambda g: _rate(g.pass_rate), justify="right", priority=KEY)]
    print_table(TableView(title=words("{scope} · {year} 年度完成情况汇总（按{group}）").format(
        scope=found.scope, year=found.year, group=words(COMPLETION_GROUPS[found.by])),
                          rows=rows, columns=columns, footnotes=footnotes))
