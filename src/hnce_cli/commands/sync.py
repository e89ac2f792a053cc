"""`hnce sync`: reconcile credits with the national platform 全国平台 (import its
export, export Henan's records in the same shape); also how online-learning and
continuing-education-base credits arrive (`--source online|base`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import JsonOpt, fmt, get_backend
from hnce_cli.terms import SYNC_PROBLEMS

if TYPE_CHECKING:
    from hnce_cli.schemas import SyncImportResult

app = typer.Typer(help="National-platform reconciliation 学分同步: import its export, export ours.\n\n"
                       "Example: hnce sync import 全国平台-2025.xlsx", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM or GBK) or XLSX; columns in docs/sync.md.")],
    source: Annotated[str, typer.Option(
        help="national 全国平台 | online 网络学习 (施教机构) | base 继续教育基地.")] = "national",
    report: Annotated[Path | None, typer.Option(
        help="Where to write the per-row report (default: FILE-report.csv beside it).")] = None,
    json_: JsonOpt = False,
) -> None:
    """System admin: add credits from an export, matched by ID number (身份证号).

    Columns: 身份证号, 姓名, 年度, 科目类型 (专业科目/公需科目), 学时, 记录编号,
    完成日期. Importing the same file again adds nothing. Good rows are added even
    when others are bad; rows not added (unknown ID number, bad data, duplicates) are
    listed and written to a CSV report. The whole file is checked first, then
    written in one transaction: interrupted, nothing is written. Exit 7 if any
    row was bad or unknown, 0 if everything was added or had been already. A file
    that hnce sync export wrote (Henan's own records, HN:…) is refused whole (exit 2).

    \b
    Examples:
      hnce sync import 全国平台-2025.xlsx
      hnce sync import 网络学习-2025.csv --source online --json > result.json
    """
    from hnce_cli.render import batch_exit_code, print_json
    from hnce_cli.tabular import check_output, iter_rows

    target = report or file.with_name(f"{file.stem}-report.csv")
    check_output(target)  # a report name that cannot be written fails now, not after the import
    rows = iter_rows(file)  # the file's encoding and header are checked here; rows are read as sent
    backend = get_backend(ctx)
    with _progress(rows, quiet=json_) as counted:
        result = backend.import_credits(counted, source)
    if result.problems:
        from hnce_cli.tabular import write_rows

        write_rows(target, ["行", "字段", "类别", "原因"],
                   ([p.row, p.field, SYNC_PROBLEMS[p.kind], p.message] for p in result.problems))
    else:
        target = None
    if fmt(json_) == "json":
        data = result.model_dump(mode="json")
        data["report"] = str(target) if target else None
        print_json(data)
    else:
        _print_summary(result, target)
    raise typer.Exit(int(batch_exit_code({"failed": result.failed})))  # the service says what failed


@contextmanager
def _progress(rows: Iterator[dict], *, quiet: bool) -> Iterator[Iterable[dict]]:
    """The rows, counted on standard error as they are read when it is a terminal (a big file
    takes a while), then "写入中" until the import is written (render.progress)."""
    from hnce_cli.render import progress

    with progress("读取并检查", quiet=quiet) as shown:

        def counted() -> Iterator[dict]:
            done = 0
            for done, row in enumerate(rows, 1):
                if done % 10_000 == 0:
                    shown.update(f"已读取并检查 {done:,} 行", completed=done)
                yield row
            shown.update(f"已检查 {done:,} 行，写入中…", completed=done)

        yield counted() if shown.shown else rows


def _print_summary(result: SyncImportResult, target: Path | None) -> None:
    from hnce_cli.figures import amount, count
    from hnce_cli.render import DETAIL, KEY, MAIN, Column, TableView, note, print_table

    c = result.counts
    if result.problems:
        shown = result.problems[:50]
        print_table(TableView(
            title="未计入的行", rows=shown,
            columns=[Column("行", lambda p: p.row, justify="right", priority=KEY),
                     Column("字段", lambda p: p.field, priority=KEY),
                     Column("类别", lambda p: SYNC_PROBLEMS[p.kind], priority=DETAIL),
                     Column("原因", lambda p: p.message, priority=MAIN)],
            footnotes=[f"另有 {len(result.problems) - len(shown)} 行未显示" if len(result.problems) > len(shown)
                       else "", f"逐行报告已写入 {target}" if target else ""]))
    n = {k: count(v) for k, v in c.items()}
    note(f"共 {count(result.rows)} 行：新增 {n.get('added', 0)} 条（{amount(result.credits)} 学分），"
         f"已导入过 {n.get('already_imported', 0)}，文件内重复 {n.get('duplicate_in_file', 0)}，"
         f"身份证号未注册 {n.get('unknown_id', 0)}，数据有误 {n.get('bad', 0)}")


@app.command("export")
def export(
    ctx: typer.Context,
    year: Annotated[int, typer.Option(help="The year to export.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="FILE.csv or FILE.xlsx (default: CSV on standard output).")] = None,
    json_: JsonOpt = False,
) -> None:
    """System admin: Henan's own credit records of a year, in the import's shape.

    Online learning, approved declarations and base records (not those that came
    from the national platform); 记录编号 is stable (HN:…), so the other side can
    import the same export twice without counting twice.

    Example: hnce sync export --year 2025 -o 河南平台-2025.csv
    """
    from hnce_cli.figures import count
    from hnce_cli.render import note, print_json, progress
    from hnce_cli.schemas.sync import EXPORT_COLUMNS
    from hnce_cli.tabular import check_output, write_csv, write_rows
    from hnce_cli.terms import CREDIT_SOURCES, SUBJECTS

    if output is not None:
        check_output(output)  # before the first page, not after the last

    backend = get_backend(ctx)

    def rows():  # noqa: ANN202
        after = None
        while True:
            page = backend.export_credits(year, after, 10_000)
            for r in page.rows:
                credits = int(r.credits) if r.credits.is_integer() else r.credits  # a number, as 40 or 12.5
                yield [r.id_number, r.name, r.year, SUBJECTS.get(r.subject, r.subject), credits,
                       r.record, r.date.isoformat(), CREDIT_SOURCES.get(r.source, r.source)]
            if page.next_after is None:
                return
            after = page.next_after

    # A province's year is millions of records, fetched page by page: counted on a terminal
    # (not when the CSV itself is scrolling past on that terminal).
    with progress(f"导出 {year} 年度学时记录", quiet=json_ or (output is None and sys.stdout.isatty())) as shown:
        if output is None:
            write_csv(sys.stdout, list(EXPORT_COLUMNS), shown.track(rows(), every=10_000), newline="\n")
            return
        written = write_rows(output, list(EXPORT_COLUMNS), shown.track(rows(), every=10_000))
    if fmt(json_) == "json":
        print_json({"year": year, "file": str(output), "rows": written})
    else:
        note(f"已导出 {year} 年度河南平台学时记录 {count(written)} 条到 {output}")
