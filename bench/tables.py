"""What fitting a table to the terminal costs: `render.print_table` (column priorities,
widths measured in terminal cells, the left-out and time-zone notes) against the floor,
the same rows handed straight to a rich table as the renderer did before (every column,
rich's own widths), both written to /dev/null at 80 and 200 columns.

    python bench/tables.py                 # 100, 1,000 and 10,000 rows, 5 runs each
    python bench/tables.py --rows 1000 --runs 9
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hnce_cli import render
from hnce_cli.commands.approve import pending_view
from hnce_cli.render import TableView


@dataclass
class Pending:  # a pending registration as `approve --list` shows it
    id_number: str
    name: str
    gender: str
    mobile: str
    unit_name: str
    department: str
    registered_at: datetime
    status_label: str


def rows(n: int) -> list[Pending]:
    start = datetime(2025, 5, 1, tzinfo=UTC)
    names = ["王伟", "买买提·艾力", "欧阳晓东", "李娜"]
    return [Pending(f"410105{19800101 + i % 9000:08d}{i % 1000:03d}X", names[i % 4], "男", f"139{i:08d}",
                    "河南中原会计师事务所有限公司", "会计核算中心", start + timedelta(minutes=i), "待审核")
            for i in range(n)]


def view(data: list[Pending]) -> TableView:
    """`hnce approve --list`'s own view of these rows."""
    return pending_view(SimpleNamespace(total=len(data), registrations=data))


def floor(table: TableView) -> None:
    """The renderer before: a plain rich table of every column, rich choosing the widths."""
    from rich import box
    from rich.table import Table

    shown = Table(title=render.plain(table.title), box=box.SIMPLE_HEAVY, title_justify="left")
    for column in table.columns:
        shown.add_column(render.plain(column.header), justify=column.justify, no_wrap=column.no_wrap)
    for row in table.rows:
        shown.add_row(*[render.plain(c.value(row)) for c in table.columns])
    render.stdout_console().print(shown)


def timed(fn, table: TableView, runs: int) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn(table)
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="rows per table (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    report = sys.stdout
    for n in args.rows or [100, 1000, 10_000]:
        table = view(rows(n))
        for width in (80, 200):
            os.environ["COLUMNS"] = str(width)
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                timed(render.print_table, table, 1)  # warm up: rich's imports
                fitted = timed(render.print_table, table, args.runs)
                plain = timed(floor, table, args.runs)
            a, b = statistics.median(fitted), statistics.median(plain)
            report.write(f"{n:>7,} rows at {width:>3} columns: print_table {a * 1000:8.1f} ms "
                         f"(min {min(fitted) * 1000:.1f}), floor {b * 1000:8.1f} ms (min {min(plain) * 1000:.1f}), "
                         f"ratio {a / b:.2f}\n")
    report.write(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")


if __name__ == "__main__":
    main()
