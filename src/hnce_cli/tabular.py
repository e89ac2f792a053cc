"""Files in and files out: the spreadsheets people send, read row by row, and every table
hnce writes — exports, the `--csv` of every listing, reports and manifests — written by one
writer (docs/exports.md).

Text that came from outside (a stranger's name, a unit, a reason) is data in both
directions:

- **Out**: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets
  a leading `'` (OWASP's rule against formula injection), so Excel shows it and never runs
  it; numbers stay numbers. Control characters other than tab and line breaks are spelled
  out (`\\x1b`): XLSX cannot hold them and a terminal would act on them. CSV quotes every
  cell holding a line break, so csv.reader reads back the cells that were written; XLSX
  cells of text are typed as text, never a formula.
- **In**: CSV in UTF-8, UTF-8 with BOM or GBK (Excel on Chinese Windows) and XLSX, read as
  a stream of rows keyed by header; a file that is UTF-8 but for a few stray bytes is
  refused naming their lines (decoded as GBK it would be garbled); a CSV cell may hold
  FIELD_LIMIT characters, a bigger one is refused naming its row and column; the `'` that
  hnce's own exports put in front of a formula character is taken off again.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from hnce_cli.errors import FieldProblem, ValidationFailed

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK
FIELD_LIMIT = 1 << 20  # characters in one CSV cell (1,048,576): Python's own default is 131,072
STRAY_LINES_SHOWN = 10  # lines named in the error of a file with stray bytes
_SCAN = 1 << 20  # bytes read at a time when a file's encoding is checked

# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = frozenset(FORMULA_START)
_PLAIN = frozenset((int, float, Decimal, type(None)))  # cells written as they are (bool: as text)
_BATCH = 2000  # rows a CSV batch


# --- files in -----------------------------------------------------------------------------

def _whole_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Blocks of bytes regrouped to end at a line break. A line break byte never occurs
    inside a UTF-8 or GB18030 character, so every piece decodes (or fails) on its own."""
    tail = b""
    for block in blocks:
        block = tail + block
        cut = block.rfind(b"\n") + 1
        tail = block[cut:]
        if cut:
            yield block[:cut]
    if tail:
        yield tail


def _file_blocks(path: Path) -> Callable[[], Iterator[bytes]]:
    def blocks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            yield from _whole_lines(iter(lambda: handle.read(_SCAN), b""))

    return blocks


def _utf8_evidence(piece: bytes) -> tuple[int, int]:
    """(bytes of well-formed multi-byte UTF-8 characters beyond the first, bytes that are not
    UTF-8 at all) in a piece of whole lines."""
    try:
        return len(piece) - len(piece.decode("utf-8")), 0
    except UnicodeDecodeError:
        text = piece.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        return len(text.encode("utf-8")) - len(text) - 2 * bad, bad


def _is_gb18030(blocks: Iterable[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        for block in blocks:
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _stray_lines(blocks: Iterable[bytes]) -> tuple[list[int], int]:
    """The first lines (1-based) that are not UTF-8, and how many there are."""
    shown: list[int] = []
    count = 0
    number = 0
    for block in blocks:
        try:
            block.decode("utf-8")
            number += block.count(b"\n")
            continue
        except UnicodeDecodeError:
            pass
        for line in block.splitlines(keepends=True):
            number += 1
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                count += 1
                if len(shown) < STRAY_LINES_SHOWN:
                    shown.append(number)
    return shown, count


def _encoding(blocks: Callable[[], Iterable[bytes]], field: str) -> str:
    """UTF-8 (with or without BOM) or GB18030, read from the bytes themselves.

    A file in GBK has almost no well-formed multi-byte UTF-8 in it; a UTF-8 file with a few
    stray bytes (a copy-paste from elsewhere, a cut multi-byte character) has mostly that.
    Such a file decodes as GB18030 too — into garbage, which then reads as a missing column —
    so it is refused with the lines to fix. A file that starts with a UTF-8 BOM is UTF-8.
    """
    good = bad = 0
    bom = False
    for index, piece in enumerate(blocks()):
        if index == 0:
            bom = piece.startswith(codecs.BOM_UTF8)
        more, wrong = _utf8_evidence(piece)
        good += more
        bad += wrong
    if not bad:
        return "utf-8-sig"
    mostly_utf8 = bom or good >= bad
    if not mostly_utf8 and _is_gb18030(blocks()):
        return "gb18030"
    shown, count = _stray_lines(blocks())
    where = "、".join(str(n) for n in shown) + (f" 等 {count} 行" if count > len(shown) else "")
    if mostly_utf8:
        message = f"文件是 UTF-8 编码，但第 {where} 行有无法识别的字节 (stray bytes that are not UTF-8)"
    else:
        message = f"无法识别文件编码：第 {where} 行既不是 UTF-8 也不是 GBK (unknown encoding)"
    fix = "fix those lines and save the file as UTF-8 (Excel: 另存为 → CSV UTF-8), or save it as XLSX"
    raise ValidationFailed(f"{field}: {message}", {"lines": shown, "count": count},
                           problems=[FieldProblem(field, message, fix)])


def decode(raw: bytes, *, field: str) -> str:
    """A whole small file's text (a list of ID numbers), by the same rules as iter_rows."""
    encoding = _encoding(lambda: _whole_lines([raw]), field)
    return raw.decode(encoding)


def _undo_prefix(value: str) -> str:
    """A cell as hnce's own exports had it before they put `'` in front of a formula character."""
    if value[:1] == "'" and value[1:2] in _FORMULA:
        return value[1:].strip()
    return value


def iter_rows(path: Path, *, field: str = "file") -> Iterator[dict[str, str]]:
    """The data rows of a CSV or XLSX file as they are read, keyed by the (stripped) header
    of row 1; cells stripped. A blank row comes as an empty dict, so that every row keeps its
    number (the first one yielded is row 2); blank rows at the end are dropped.

    What makes the whole file unusable — missing, unreadable, the wrong encoding, empty — is
    raised here, before the first row is asked for; a cell too large when its row is read.
    """
    if not path.exists():
        raise ValidationFailed.one(field, f"文件不存在：{path}", "check the path")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path, field)
    else:
        rows = _csv_rows(path, _encoding(_file_blocks(path), field), field)
    next(rows)  # up to the header: an empty file fails here
    return rows


def read_rows(path: Path, *, field: str = "file") -> list[dict[str, str]]:
    """All non-blank rows of a CSV or XLSX file, keyed by the (stripped) header of row 1."""
    return [row for row in iter_rows(path, field=field) if row]


def _csv_rows(path: Path, encoding: str, field: str) -> Iterator[dict[str, str]]:
    csv.field_size_limit(FIELD_LIMIT)
    with path.open(encoding=encoding, newline="") as handle:
        record: list[str] = []  # the lines of the row being read: to name a cell too large

        def lines() -> Iterator[str]:
            for line in handle:
                record.append(line)
                yield line

        reader = csv.reader(lines())
        header: list[str] | None = None
        number = 0  # the row's number as a spreadsheet shows it (the header is row 1)
        blanks = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _unreadable(exc, number + 1, header, "".join(record), field) from None
            number += 1
            prefixed = "'" in record[0] if len(record) == 1 else any("'" in line for line in record)
            record.clear()
            if header is None:
                header = [_undo_prefix(h.strip()) for h in cells]
                yield {}  # the header is read: iter_rows returns
                continue
            if not "".join(cells).strip():
                blanks += 1
                continue
            while blanks:
                blanks -= 1
                yield {}
            if len(cells) < len(header):
                cells += [""] * (len(header) - len(cells))
            values = map(str.strip, cells)
            if prefixed:
                values = map(_undo_prefix, values)
            yield dict(zip(header, values, strict=False))
        if header is None:
            raise ValidationFailed.one(field, "文件为空", "the first row must be the header")


def _unreadable(exc: csv.Error, number: int, header: list[str] | None, text: str, field: str) -> ValidationFailed:
    """A CSV row the reader stopped at, as a validation error naming the row (and the column)."""
    if "field larger than field limit" not in str(exc):
        message = f"第 {number} 行无法读取 (unreadable CSV row): {exc}"
        return ValidationFailed(f"{field}: {message}", {"row": number}, problems=[
            FieldProblem(f"row {number}", message, "re-save the file as CSV in Excel, or as XLSX")])
    index = _large_column(text)
    if index is None:
        column = "?"
    elif header is not None and index < len(header) and header[index]:
        column = header[index]
    else:
        column = f"第 {index + 1} 列"
    message = (f"第 {number} 行「{column}」列的内容超过 {FIELD_LIMIT:,} 个字符 "
               f"(cell larger than {FIELD_LIMIT:,} characters)")
    return ValidationFailed(f"{field}: {message}", {"row": number, "column": column, "limit": FIELD_LIMIT},
                            problems=[FieldProblem(f"row {number}: {column}", message,
                                                   "shorten that cell (docs/exports.md: cells hold at most "
                                                   f"{FIELD_LIMIT:,} characters), or split the row")])


# A CSV row's pieces as csv.reader (the excel dialect) sees them: a quoted run (its closing
# quote may not have been read yet), an unquoted run, a comma, a line break.
_PIECES = re.compile(r'"(?:[^"]|"")*"?|[^",\r\n]+|,|\r\n|\n|\r')


def _large_column(text: str) -> int | None:
    """Which cell (0-based) of a row's text holds more than FIELD_LIMIT characters."""
    column = size = 0
    for match in _PIECES.finditer(text):
        piece = match.group()
        if piece == ",":
            column, size = column + 1, 0
            continue
        if piece[0] == '"':
            inner = piece[1:-1] if len(piece) > 1 and piece.endswith('"') else piece[1:]
            size += len(inner) - inner.count('""')
        elif piece[0] not in "\r\n":
            size += len(piece)
        if size > FIELD_LIMIT:
            return column
    return None


def _xlsx_rows(path: Path, field: str) -> Iterator[dict[str, str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:  # a broken or foreign file
        raise ValidationFailed.one(field, f"无法读取 XLSX：{exc}", "re-save the file in Excel") from exc
    try:
        header: list[str] | None = None
        blanks = 0
        for raw in workbook.worksheets[0].iter_rows(values_only=True):
            row = [_undo_prefix("" if c is None else str(c).strip()) for c in raw]
            if header is None:
                header = row
                yield {}  # the header is read: iter_rows returns
                continue
            if not any(row):
                blanks += 1
                continue
            while blanks:
                blanks -= 1
                yield {}
            yield dict(zip(header, row, strict=False))
        if header is None:
            raise ValidationFailed.one(field, "文件为空", "the first row must be the header")
    finally:
        workbook.close()


# --- files out ----------------------------------------------------------------------------

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header


def neutral(value: Any) -> Any:
    """A cell as hnce writes it: numbers (and empty cells) as they are; anything else as text,
    its control characters spelled out (see _HIDDEN) and a leading `'` when it begins with a
    formula character."""
    if value is None or value.__class__ in _PLAIN:
        return value
    text = value if isinstance(value, str) else str(value)
    if not text.isprintable():
        text = _HIDDEN.sub(_spelled, text)
    return "'" + text if text.startswith(FORMULA_START) else text


# The control characters an export spells out (\x1b) instead of writing: C0 and C1 controls
# but tab, line feed and carriage return, which a cell holds (a CSV quotes a cell with a line
# break). XLSX cannot hold them, and a terminal that is sent a --csv listing would act on them
# (clear the screen, retitle the window, write the clipboard). Everything else is written as
# stored: bidi and zero-width characters are characters of the text (`hnce db check` lists
# stored values that have them).
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _spelled(char: re.Match[str]) -> str:
    return f"\\x{ord(char.group()):02x}"


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              newline: str = "\r\n") -> int:
    """A table as CSV on `out`, streaming (rows may be a generator of a million); the row count.

    Every cell is written as `neutral` makes it. `newline` is "\r\n" for files (Excel's own)
    and "\n" for standard output; either way a cell holding a carriage return or a line feed
    is quoted, so csv.reader reads back the cells that were written (the csv module quotes
    only the line ending's own characters: a batch with a bare CR in it is written again with
    \r\n, row by row, and given the line ending asked for).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    crlf = csv.writer(buffer, lineterminator="\r\n")
    plain, formula = _PLAIN, FORMULA_START
    carriage_return = False

    def taken() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    def odd(value: Any) -> Any:
        """A cell that is not a printable str (or not a str at all): the slow way."""
        nonlocal carriage_return
        cell = neutral(value)
        if cell.__class__ is str and "\r" in cell:
            carriage_return = True
        return cell

    def write(batch: list[list[Any]]) -> None:
        nonlocal carriage_return
        writer.writerows(batch)
        text = taken()
        if carriage_return and "\r" not in newline:
            lines = []
            for row in batch:
                crlf.writerow(row)
                lines.append(taken()[:-2] + newline)
            text = "".join(lines)
        carriage_return = False
        out.write(text)

    write([[odd(h) for h in header]])
    count = 0
    source = iter(rows)
    # A province's export is a million rows. While the written text of a batch shows that
    # no cell needed anything (no control character, nothing that could begin a formula),
    # batches go to the csv module as they are; from the first batch that may, every cell is
    # tested (inline for a printable str and a number).
    as_they_are = True
    while as_they_are and (raw := list(islice(source, _BATCH))):
        writer.writerows(raw)
        text = taken()
        if text.replace(newline, "").isprintable() and not any(char in text for char in "=+-@"):
            out.write(text)
            count += len(raw)
            continue
        as_they_are = False
        source = chain(raw, source)
    while batch := [[(("'" + v if v.startswith(formula) else v) if v.isprintable() else odd(v))
                     if v.__class__ is str else v if v.__class__ in plain else odd(v) for v in row]
                    for row in islice(source, _BATCH)]:
        write(batch)
        count += len(batch)
    return count


def check_output(path: Path) -> str:
    """The suffix of a file write_rows can write (.csv, .xlsx); checked by a command before
    a long query too, so a wrong name fails first, not after the work."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed.one("output", f"不支持的文件类型：{path.name}", "name the file .csv or .xlsx")
    return suffix


@dataclass(frozen=True)
class BarChart:
    """A native Excel bar chart drawn beside an XLSX table, from the table's own cells (a CSV
    has none): one horizontal bar per row, named by the `categories` column, its `series`
    columns stacked — as shares of the bar (`percent`, 100 % wide: which rows lag) or as
    counts. `skip_last` rows at the end (a 合计 row) are not drawn. Columns are named by
    their headers. The chart refers to the cells, so what it shows is what the table holds,
    written by the same rules (a name that looks like a formula is text there too); its
    title is held to them as well (control characters spelled out)."""

    title: str
    categories: str
    series: tuple[str, ...]
    percent: bool = True
    skip_last: int = 0


def write_rows(path: Path, header: list[str], rows: Iterable[Sequence[object]], *,
               chart: BarChart | None = None) -> int:
    """Write a table as CSV (UTF-8 with BOM, so Excel shows the Chinese) or XLSX, by the
    file's suffix, streaming: rows may be a generator of a million. Returns the row count.
    `chart`: an XLSX also carries that bar chart beside the table (ignored for CSV).

    Written to a temporary file beside it and renamed at the end, so an interrupted or
    failed export never leaves half a file under the real name.
    """
    import os
    import tempfile

    suffix = check_output(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValidationFailed.one("output", f"目录不存在：{folder}", "create the folder first")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    try:
        if suffix == ".csv":
            # The BOM written once by hand: the utf-8-sig codec encodes in Python on every write.
            with os.fdopen(handle, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
                out.write("\ufeff")
                count = write_csv(out, header, rows)
        else:
            os.close(handle)
            count = _write_xlsx(temp, header, rows, chart)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


def _write_xlsx(temp: str, header: list[str], rows: Iterable[Sequence[object]],
                chart: BarChart | None = None) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()

    def cell(value: object) -> object:
        """A number as a number; text as text, never a formula or an error value (#N/A)."""
        value = neutral(value)
        if value is None or value.__class__ in _PLAIN:
            return value
        if value in ERROR_CODES:  # openpyxl would type it as an error value
            typed = WriteOnlyCell(sheet, value=value)
            typed.data_type = "s"
            return typed
        return value

    sheet.append([cell(h) for h in header])
    count = 0
    for row in rows:
        count += 1
        if count > XLSX_MAX_ROWS:
            raise ValidationFailed.one("output", f"超过 XLSX 的行数上限 {XLSX_MAX_ROWS}", "write a .csv file instead")
        sheet.append([cell(value) for value in row])
    if chart is not None and count > chart.skip_last:
        sheet.add_chart(_bar_chart(sheet, header, count - chart.skip_last, chart),
                        f"{_column_letter(len(header) + 2)}2")
    workbook.save(temp)
    return count


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _bar_chart(sheet: Any, header: list[str], drawn: int, spec: BarChart) -> Any:
    """The openpyxl chart of `spec` over rows 2 … drawn + 1 of `sheet` (row 1 is the header:
    the series' names come from it)."""
    from openpyxl.chart import BarChart as Bars
    from openpyxl.chart import Reference
    from openpyxl.chart.data_source import AxDataSource, StrRef

    def column(name: str) -> int:
        if name not in header:
            raise ValueError(f"chart column {name!r} is not in the table's header")
        return header.index(name) + 1

    bars = Bars()
    bars.type = "bar"  # horizontal: long Chinese names read on the axis
    bars.grouping = "percentStacked" if spec.percent else "stacked"
    bars.overlap = 100  # stacked bars lie on each other
    title = spec.title if spec.title.isprintable() else _HIDDEN.sub(_spelled, spec.title)
    bars.title = title
    last = drawn + 1
    for name in spec.series:
        index = column(name)
        bars.add_data(Reference(sheet, min_col=index, min_row=1, max_row=last), titles_from_data=True)
    # The bars' names are text (郑州市, a unit's name): a string reference, as Excel writes it
    # (openpyxl's set_categories would make it a number reference).
    names = Reference(sheet, min_col=column(spec.categories), min_row=2, max_row=last)
    for series in bars.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(names)))
    bars.x_axis.delete = False  # openpyxl 3.1 otherwise hides the axes in current Excel
    bars.y_axis.delete = False
    bars.width = 18
    bars.height = min(7.5 + 0.45 * drawn, 60)  # room for each name, up to a screen
    return bars
