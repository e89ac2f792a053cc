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


# Column priorities: which columns a narrow terminal leaves out first. A view names its
# key columns (the row's identity and state: 编号, 身份证号, 姓名, 状态) — never left out,
# never wrapped, never cut — and ranks the others; the highest number goes first, and among
# equals the rightmost. `--wide` shows every column; --json / --csv always carry them all.
KEY = 0  # never left out, wrapped or abbreviated
MAIN = 1  # what the view is for (a unit's name beside a person): left out last
DETAIL = 2  # useful beside the key (a time, a department)
EXTRA = 3  # first to go (gender, a mobile number beside the ID number)


@dataclass
class Column:
    """One column of a table. `priority` (KEY … EXTRA) says when a narrow terminal leaves it
    out (see above); a KEY column is shown whole on one line, whatever the width."""

    header: str
    value: Callable[[Any], Any]
    justify: str = "left"
    no_wrap: bool = False
    priority: int = MAIN


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


def shown_value(value: Any) -> str:
    """A cell or detail value as a view shows it (fmt_value), a yes/no in the run's language
    (是 / Yes: the renderer's word, not data). --csv keeps 是/否, the platform's, whatever the
    language: a script reads the same file."""
    if isinstance(value, bool):
        from hnce_cli.i18n import words

        return words("是" if value else "否")
    return fmt_value(value)


ZONE_NOTE = "时间为北京时间 (UTC+8)"  # said once under a view, never on every cell


@dataclass
class Fitted:
    """How a table fits a width: the columns shown (in the view's order) with their widths,
    those left out (in the view's order), and the width the table needs."""

    shown: list[int]
    widths: list[int]
    left_out: list[int]
    width: int


def _table_width(widths: Sequence[int]) -> int:
    """Columns a rich table of these content widths takes: one space of padding each side of
    every column, one between columns and one at each edge (box.SIMPLE_HEAVY)."""
    return sum(widths) + 3 * len(widths) + 1


def fit_columns(columns: Sequence[Column], natural: Sequence[int], minimum: Sequence[int],
                room: int, wide: bool = False) -> Fitted:
    """Which columns a table shows in `room` terminal columns, and how wide each is.

    While the narrowest form of the table (key and unbreakable columns whole, others at their
    minimum) is wider than the room, the lowest-priority column left goes — the highest
    `priority` number, the rightmost among equals; a KEY column never goes. A column left
    out comes back, most important first, if it fits beside the others at their full width.
    The room left is shared out by narrowing wrappable columns, the lowest-priority and
    widest first, never below their minimum. `wide` keeps every column; then, as when the
    key columns alone are wider than the room, the table is as wide as its rows on one line
    each (the terminal wraps them, `less -S` scrolls them; nothing is cut)."""
    shown = list(range(len(columns)))
    left_out: list[int] = []

    def narrowest(ids: Sequence[int]) -> int:
        return _table_width([minimum[i] for i in ids])

    if not wide:
        while narrowest(shown) > room:
            droppable = [i for i in shown if columns[i].priority > KEY]
            if not droppable:
                break
            worst = max(droppable, key=lambda i: (columns[i].priority, i))
            shown.remove(worst)
            left_out.append(worst)
        for i in sorted(left_out, key=lambda i: (columns[i].priority, -i)):
            # back only if the columns already shown keep their full width
            if _table_width([*(natural[j] for j in shown), minimum[i]]) <= room:
                shown = sorted([*shown, i])
                left_out.remove(i)
    widths = {i: natural[i] for i in shown}
    excess = _table_width(list(widths.values())) - room
    while excess > 0:
        narrowable = [i for i in shown if widths[i] > minimum[i]]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: (columns[i].priority, widths[i], i))
        widths[widest] -= 1
        excess -= 1
    if excess > 0:  # wider than the room even when narrowed: one line a row, at full width
        widths = {i: natural[i] for i in shown}
    chosen = [widths[i] for i in shown]
    return Fitted(shown, chosen, sorted(left_out), _table_width(chosen))


def _current_command() -> Any:
    """The click context of the running command (None outside one): a listing's --wide and
    --no-pager are read from it, so a command only declares them (`_common.WideOpt`)."""
    click = sys.modules.get("typer._click.globals")  # typer 0.28 carries its own click
    return None if click is None else click.get_current_context(silent=True)


def _option(name: str) -> Any:
    ctx = _current_command()
    return None if ctx is None else ctx.params.get(name)


def _has_option(flag: str) -> bool:
    ctx = _current_command()
    return ctx is not None and any(flag in getattr(p, "opts", ()) for p in ctx.command.params)


def _first_time_note() -> bool:
    """True the first time a command's output shows times: the zone is said once per view,
    even when a view is several tables (`hnce inbox`, `hnce declare show`)."""
    ctx = _current_command()
    if ctx is None:
        return True
    said = ctx.meta.get("hnce.render.zone_said", False)
    ctx.meta["hnce.render.zone_said"] = True
    return not said


def left_out_note(headers: Sequence[str]) -> str:
    """The line under a table that left columns out: which, and how to see them (the ways
    this command offers: --wide, --json)."""
    from hnce_cli.i18n import words  # the catalogue's: English with --lang en

    ways = [way for flag, way in (("--wide", words("--wide 显示全部")), ("--json", words("--json 取得全部字段")))
            if _has_option(flag)] or [words("终端加宽后显示")]
    return words("未显示的列：{columns}（{ways}）").format(
        columns=words("、").join(words(h) for h in headers), ways=words("；").join(ways))


def rich_table(view: TableView, room: int | None = None):  # noqa: ANN201  (rich.table.Table, imported lazily)
    """A TableView as a rich table, fitted to `room` columns (see fit_columns; None: every
    column at its natural width). Every string in it — title, headers, cells, caption — is
    plain text: titles quote names and folders, cells hold what strangers typed."""
    return _fitted_table(view, room)[0]


def _fitted_table(view: TableView, room: int | None, wide: bool = False) -> tuple[Any, Fitted, bool]:
    """The rich table, how it was fitted, and whether a shown cell holds a time."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    columns = view.columns
    raw = [[c.value(row) for c in columns] for row in view.rows]
    texts = [[visible(shown_value(v)) for v in cells] for cells in raw]
    from hnce_cli.i18n import words  # headers in the run's language: msgid = the Chinese as written

    headers = [visible(words(c.header)) for c in columns]
    natural = [max([cell_width(headers[i]), *(cell_width(t[i]) for t in texts)]) for i in range(len(columns))]
    minimum = [n if c.priority == KEY or c.no_wrap else min(n, max(cell_width(headers[i]), 10))
               for i, (c, n) in enumerate(zip(columns, natural, strict=True))]
    fitted = fit_columns(columns, natural, minimum, room if room is not None else _table_width(natural), wide)
    table = Table(title=None if view.title is None else plain(words(view.title)),  # a constant title: a msgid
                  caption=None if view.caption is None else plain(view.caption), box=box.SIMPLE_HEAVY,
                  title_justify="left", caption_justify="left")
    for i, width in zip(fitted.shown, fitted.widths, strict=True):
        whole = columns[i].priority == KEY or columns[i].no_wrap
        table.add_column(Text(headers[i]), justify=columns[i].justify, no_wrap=whole, width=width,
                         overflow="ignore" if whole else "fold")
    for t in texts:
        table.add_row(*[Text(t[i]) for i in fitted.shown])
    times = any(isinstance(cells[i], datetime) for cells in raw for i in fitted.shown)
    return table, fitted, times


def print_table(view: TableView) -> None:
    """A table fitted to the terminal (fit_columns; `--wide` keeps every column), its
    footnotes, the time zone once if a shown cell is a time, and which columns were left
    out; paged like git's output when it is longer than the screen (`show`)."""
    console = stdout_console()
    room = console.width
    table, fitted, times = _fitted_table(view, room, wide=bool(_option("wide")))
    from hnce_cli.i18n import words

    notes = [*map(words, view.footnotes), *([words(ZONE_NOTE)] if times and _first_time_note() else [])]
    if fitted.left_out:
        notes.append(left_out_note([view.columns[i].header for i in fitted.left_out]))
    if fitted.width > room:  # key columns wider than the terminal: whole, the terminal wraps them
        console.width = fitted.width
    with console.capture() as captured:
        console.print(table)
        for line in notes:
            console.print(plain(line))
    show(captured.get())


def show(text: str) -> None:
    """Write a view to standard output, through a pager when it is longer than the screen of
    a terminal (like git: `less` with LESS=FRX unless LESS is set; HNCE_PAGER, then PAGER,
    choose another, `cat` or an empty value turns it off, as does the command's --no-pager).
    Never in a pipe or a file: scripts get the text as is."""
    import os

    command = os.environ.get("HNCE_PAGER", os.environ.get("PAGER", "less")).strip()
    if (not sys.stdout.isatty() or _option("no_pager") or command in ("", "cat")
            or text.count("\n") < _screen_lines()):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    import shlex
    import shutil
    import subprocess

    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        program = ""
    if not shutil.which(program):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    sys.stdout.flush()
    env = {**os.environ}
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    assert pager.stdin is not None
    try:
        pager.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        pager.stdin.close()
    except BrokenPipeError:  # the reader quit (q) before the end
        pass
    while True:
        try:
            pager.wait()
            break
        except KeyboardInterrupt:  # Ctrl-C is the pager's to handle, as with git
            continue


def _screen_lines() -> int:
    import os
    import shutil

    lines = os.environ.get("LINES")
    return int(lines) if lines and lines.isdigit() else shutil.get_terminal_size().lines


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


def print_details(title: str, pairs: Iterable[tuple[str, Any]], *, title_is_data: bool = False) -> None:
    """A label/value block for one record, labels aligned (Chinese labels are two columns a
    character), values wrapped under themselves. Plain text: data is never read as markup
    or terminal codes. Times are in Beijing time, said once under the block.

    The labels and a constant title are msgids, the Chinese as written in the command
    (`("所在单位", p.unit_name)`), shown in the run's language like a table's headers; the
    values are data and never translated. A title built with the record's own words
    (`f"{p.name} · {p.status_label}"`) is no msgid and is shown as written; a title that is
    data alone (a unit's name) says so (`title_is_data`) and is never looked up."""
    from hnce_cli.i18n import words

    pairs = list(pairs)
    rows = [(words(label), visible(shown_value(value))) for label, value in pairs]
    lines = [_bold(visible(title if title_is_data else words(title))), ""]
    if rows:
        label_width = max(cell_width(label) for label, _ in rows)
        room = max(20, _columns() - label_width - 6)
        for label, value in rows:
            parts = _wrap(value, room)
            lines.append(f"  {_bold(label)}{' ' * (label_width - cell_width(label))}  {parts[0]}")
            lines.extend(f"  {' ' * label_width}  {part}" for part in parts[1:])
    if any(isinstance(value, datetime) for _, value in pairs) and _first_time_note():
        lines += ["", f"  {words(ZONE_NOTE)}"]
    show("\n".join(lines) + "\n\n")


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
    from hnce_cli.i18n import message as localised  # a bilingual hint: its English part in English

    sys.stderr.write(visible(localised(message)).replace("\\x0a", "\n") + "\n")
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

    # The run's language: 身份证号 (id_number) or the key alone; a bilingual message whole
    # or its English part; a fix hint from the catalogue (i18n.message). JSON is untouched.
    from hnce_cli.i18n import _, current, field_label, message

    headline = f"[bold red]{escape(_('错误'))}[/]{'：' if current() != 'en' else ': '}"
    problems = exc.problems if isinstance(exc, ValidationFailed) else []
    if len(problems) == 1 and exc.message == f"{problems[0].field}: {problems[0].message}":
        # One field: the headline already says it; only its fix is left to add.
        console.print(f"{headline}{quoted(field_label(problems[0].field))}: {quoted(message(problems[0].message))}")
        if problems[0].fix:
            console.print(f"  → {quoted(message(problems[0].fix))}")
    else:
        console.print(f"{headline}{quoted(message(exc.message))}")
        for problem in problems:
            fix = f"  → {quoted(message(problem.fix))}" if problem.fix else ""
            console.print(f"  [bold]{quoted(field_label(problem.field))}[/]: {quoted(message(problem.message))}{fix}")
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
