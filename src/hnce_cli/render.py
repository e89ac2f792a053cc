"""The one output layer: rich tables on a terminal, --json and --csv for scripts.

Commands hand over a result (a schemas model) and a description of its table;
this module decides how it looks. Errors are rendered here too. rich is imported
lazily so that `hnce --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from unicodedata import combining, east_asian_width

from hnce_cli.clock import CHINA_TZ
from hnce_cli.errors import ExitCode, HnceError, ValidationFailed
from hnce_cli.text import visible

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class Column:
    header: str
    value: Callable[[Any], Any]
    justify: str = "left"
    no_wrap: bool = False


@dataclass
class TableView:
    """A table: title, columns and rows; the same spec feeds rich and CSV."""

    columns: list[Column]
    rows: Sequence[Any]
    title: str | None = None
    caption: str | None = None
    footnotes: list[str] = field(default_factory=list)


def stdout_console() -> Console:
    """A terminal gets its own width; a pipe or file gets room for wide tables."""
    import os

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(soft_wrap=False, highlight=False, width=width, emoji=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False)


def fmt_value(value: Any) -> str:
    """Plain text for a cell: dates in Beijing time, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA_TZ)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _is_model(result: Any) -> bool:
    """A pydantic model? Asked without importing pydantic: if no module has loaded it,
    nothing here is a model (`hnce profile list` prints plain data and never pays the
    import)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(result, pydantic.BaseModel)


def to_jsonable(result: Any) -> Any:
    if _is_model(result):
        return result.model_dump(mode="json")
    if isinstance(result, list | tuple):
        return [to_jsonable(r) for r in result]
    if isinstance(result, dict):
        return {k: to_jsonable(v) for k, v in result.items()}
    return result


def json_indent() -> int | None:
    """Indented JSON for a person at a terminal, compact for a script (a pipe or a
    file; `| jq .` indents it): a 100,000-item result is 15 MB instead of 22 MB and
    is written ~0.1 s sooner."""
    return 2 if sys.stdout.isatty() else None


def dumps(data: Any) -> str:
    """JSON text of plain data as --json prints it (see json_indent)."""
    indent = json_indent()
    return json.dumps(data, ensure_ascii=False, indent=indent, default=str,
                      separators=None if indent else (",", ":"))


def print_json(result: Any) -> None:
    if _is_model(result):
        # Bytes straight from pydantic-core to the byte stream: a 100,000-item batch is
        # 15 MB of JSON, and a str round trip (decode, then encode again) costs ~0.1 s.
        data = result.__pydantic_serializer__.to_json(result, indent=json_indent())
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            sys.stdout.flush()
            buffer.write(data)
            buffer.write(b"\n")
            buffer.flush()
            return
        sys.stdout.write(data.decode() + "\n")
    else:
        sys.stdout.write(dumps(to_jsonable(result)) + "\n")
    sys.stdout.flush()


def print_csv(view: TableView) -> None:
    """`--csv`: the view's columns through the one writer (tabular.write_csv), so text from
    outside can never run as a spreadsheet formula and a cell with a line break stays one
    cell; numbers stay numbers, everything else is shown as in the table."""
    from hnce_cli.tabular import write_csv

    def cell(value: Any) -> Any:
        return value if isinstance(value, int | float) and not isinstance(value, bool) else fmt_value(value)

    write_csv(sys.stdout, [c.header for c in view.columns],
              ([cell(c.value(row)) for c in view.columns] for row in view.rows), newline="\n")


def plain(value: Any):  # noqa: ANN201  (rich.text.Text, imported lazily)
    """A value as rich shows data: literal text (never markup: `[/]`, `[link=…]` are shown as
    typed) with control and invisible characters escaped (`visible`)."""
    from rich.text import Text

    return Text(visible(fmt_value(value)))


def rich_table(view: TableView):  # noqa: ANN201  (rich.table.Table, imported lazily)
    """A TableView as a rich table. Every string in it — title, headers, cells, caption — is
    plain text: titles quote names and folders, cells hold what strangers typed."""
    from rich import box
    from rich.table import Table

    table = Table(title=None if view.title is None else plain(view.title),
                  caption=None if view.caption is None else plain(view.caption), box=box.SIMPLE_HEAVY,
                  title_justify="left", caption_justify="left")
    for column in view.columns:
        table.add_column(plain(column.header), justify=column.justify, no_wrap=column.no_wrap)
    for row in view.rows:
        table.add_row(*[plain(c.value(row)) for c in view.columns])
    return table


def print_table(view: TableView) -> None:
    console = stdout_console()
    console.print(rich_table(view))
    for note in view.footnotes:
        console.print(plain(note))


def cell_width(text: str) -> int:
    """Columns a text takes on a terminal: wide (CJK) characters two, combining marks none."""
    return sum(0 if combining(c) else 2 if east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text: str, width: int) -> list[str]:
    """A value cut into lines of at most `width` columns (at a space where there is one)."""
    lines, line, used = [], "", 0
    for word in text.split(" "):
        piece = f" {word}" if line else word
        size = cell_width(piece)
        if line and used + size > width:
            lines.append(line)
            piece, size, line, used = word, cell_width(word), "", 0
        while size > width:  # a run longer than a line (Chinese has no spaces): cut it
            cut, taken = "", 0
            for c in piece:
                if taken + cell_width(c) > width - used:
                    break
                cut, taken = cut + c, taken + cell_width(c)
            lines.append(line + cut)
            piece, size, line, used = piece[len(cut):], size - taken, "", 0
        line, used = line + piece, used + size
    return [*lines, line]


def _columns() -> int:
    import os

    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    return int(os.environ.get("COLUMNS") or 160)


def _bold(text: str) -> str:
    import os

    return f"\x1b[1m{text}\x1b[0m" if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else text


def print_details(title: str, pairs: Iterable[tuple[str, Any]]) -> None:
    """A label/value block for one record, labels aligned (Chinese labels are two columns a
    character), values wrapped under themselves. Plain text: data is never read as markup
    or terminal codes."""
    rows = [(label, visible(fmt_value(value))) for label, value in pairs]
    lines = [_bold(visible(title)), ""]
    if rows:
        label_width = max(cell_width(label) for label, _ in rows)
        room = max(20, _columns() - label_width - 6)
        for label, value in rows:
            parts = _wrap(value, room)
            lines.append(f"  {_bold(label)}{' ' * (label_width - cell_width(label))}  {parts[0]}")
            lines.extend(f"  {' ' * label_width}  {part}" for part in parts[1:])
    sys.stdout.write("\n".join(lines) + "\n\n")
    sys.stdout.flush()


def emit(result: Any, fmt: str, view: TableView | None = None,
         details: Callable[[], None] | None = None) -> None:
    """Print a result in the chosen format: json, csv or a table / detail view."""
    if fmt == "json":
        print_json(result)
    elif fmt == "csv" and view is not None:
        print_csv(view)
    elif view is not None:
        print_table(view)
    elif details is not None:
        details()
    else:
        print_json(result)


def note(message: str) -> None:
    """A human hint on stderr (never mixed into --json / --csv output), as plain text."""
    sys.stderr.write(visible(message).replace("\\x0a", "\n") + "\n")
    sys.stderr.flush()


def render_error(exc: HnceError, as_json: bool) -> int:
    """Show an expected error: JSON on stdout for scripts, a message on stderr otherwise."""
    if as_json:
        sys.stdout.write(dumps({"error": exc.to_dict()}) + "\n")
        return int(exc.exit_code)
    console = stderr_console()
    from rich.markup import escape

    def quoted(text: str) -> str:  # messages quote what was typed: literal and visible
        return escape(visible(text))

    console.print(f"[bold red]错误[/]：{quoted(exc.message)}")
    problems = exc.problems if isinstance(exc, ValidationFailed) else []
    if len(problems) == 1 and exc.message == f"{problems[0].field}: {problems[0].message}":
        # One field: the headline already says it; only its fix is left to add.
        if problems[0].fix:
            console.print(f"  → {quoted(problems[0].fix)}")
    else:
        for problem in problems:
            fix = f"  → {quoted(problem.fix)}" if problem.fix else ""
            console.print(f"  [bold]{quoted(problem.field)}[/]: {quoted(problem.message)}{fix}")
    return int(exc.exit_code)


def batch_exit_code(counts: dict[str, int]) -> ExitCode:
    """A batch exits 7 if any item failed, 5 if any conflicted, else 0 (docs/exit-codes.md)."""
    if counts.get("failed"):
        return ExitCode.PARTIAL
    if counts.get("conflict"):
        return ExitCode.CONFLICT
    return ExitCode.OK


# --- long work shows life: one progress helper for every command -------------------------

class Progress:
    """What a long command shows while it works: a rich spinner (no total) or bar (a total)
    with a count on standard error — only when standard error is a terminal and the run is
    not --json, so a pipe, a cron log or a script's JSON gets nothing extra. Everything is a
    no-op otherwise, and `track` hands the rows back untouched (a province's export pays
    nothing for it)."""

    def __init__(self, description: str, total: int | None = None, *, quiet: bool = False) -> None:
        self.description = description
        self.total = total
        self.shown = not quiet and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.shown:
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            counted = MofNCompleteColumn() if self.total is not None else TextColumn("{task.completed:,.0f}")
            self._bar = RichProgress(SpinnerColumn(), TextColumn("{task.description}"),
                                     *([BarColumn()] if self.total is not None else []), counted,
                                     TimeElapsedColumn(), console=stderr_console(), transient=True,
                                     redirect_stdout=False, redirect_stderr=False)  # data goes out as is
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def update(self, description: str | None = None, *, completed: int | None = None,
               total: int | None = None) -> None:
        """A new stage ("写入中…"), a count, or a total learned on the way."""
        if self._bar is not None:
            self._bar.update(self._task, description=description, completed=completed, total=total)

    def track(self, rows: Iterable[Any], every: int = 1000) -> Iterable[Any]:
        """The rows as they pass, counted every `every` rows (per-row updates would cost a
        province's export seconds); the rows themselves when nothing is shown."""
        if self._bar is None:
            return rows
        return self._tracked(rows, every)

    def _tracked(self, rows: Iterable[Any], every: int) -> Iterable[Any]:
        done = 0
        for done, row in enumerate(rows, 1):
            if done % every == 0:
                self.update(completed=done)
            yield row
        self.update(completed=done)


def progress(description: str, total: int | None = None, *, quiet: bool = False) -> Progress:
    """`with progress("读取申报文件") as shown: …` — the one way a command shows long work
    (see Progress): on a terminal's standard error only, never with --json (`quiet`)."""
    return Progress(description, total, quiet=quiet)
