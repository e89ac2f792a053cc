"""Reading the spreadsheets people actually send: CSV in UTF-8, UTF-8 with BOM or
GBK (Excel on Chinese Windows), and XLSX. Rows come back as dicts by header."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from hnce_cli.errors import ValidationFailed

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK


def decode(raw: bytes, *, field: str) -> str:
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed.one(field, "无法识别文件编码", "save the file as UTF-8 or GBK CSV, or XLSX")


def read_rows(path: Path, *, field: str = "file") -> list[dict[str, str]]:
    """All rows of a CSV or XLSX file, keyed by the (stripped) header of row 1."""
    if not path.exists():
        raise ValidationFailed.one(field, f"文件不存在：{path}", "check the path")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, field)
    text = decode(path.read_bytes(), field=field)
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    if not rows:
        raise ValidationFailed.one(field, "文件为空", "the first row must be the header")
    header = [h.strip() for h in rows[0]]
    return [
        {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        for row in rows[1:]
        if any(cell.strip() for cell in row)
    ]


def _read_xlsx(path: Path, field: str) -> list[dict[str, str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:  # a broken or foreign file
        raise ValidationFailed.one(field, f"无法读取 XLSX：{exc}", "re-save the file in Excel") from exc
    sheet = workbook.worksheets[0]
    rows = [["" if c is None else str(c).strip() for c in row]
            for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not rows:
        raise ValidationFailed.one(field, "文件为空", "the first row must be the header")
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(row)]


XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header


def check_output(path: Path) -> str:
    """The suffix of a file write_rows can write (.csv, .xlsx); checked by a command before
    a long query too, so a wrong name fails first, not after the work."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed.one("output", f"不支持的文件类型：{path.name}", "name the file .csv or .xlsx")
    return suffix


def write_rows(path: Path, header: list[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a table as CSV (UTF-8 with BOM, so Excel shows the Chinese) or XLSX, by the
    file's suffix, streaming: rows may be a generator of a million. Returns the row count.

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
    count = 0
    try:
        if suffix == ".csv":
            # The BOM written once by hand: the utf-8-sig codec encodes in Python on every write.
            with os.fdopen(handle, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
                out.write("\ufeff")
                writer = csv.writer(out)
                writer.writerow(header)
                for row in rows:
                    writer.writerow(row)
                    count += 1
        else:
            os.close(handle)
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet()
            sheet.append(header)
            for row in rows:
                count += 1
                if count > XLSX_MAX_ROWS:
                    raise ValidationFailed.one("output", f"超过 XLSX 的行数上限 {XLSX_MAX_ROWS}",
                                               "write a .csv file instead")
                sheet.append(list(row))
            workbook.save(temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count
