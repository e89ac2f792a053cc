"""Reading the spreadsheets people actually send: CSV in UTF-8, UTF-8 with BOM or
GBK (Excel on Chinese Windows), and XLSX. Rows come back as dicts by header."""

from __future__ import annotations

import csv
import io
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
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationFailed.one(field, f"无法读取 XLSX：{exc}", "re-save the file in Excel") from exc
    sheet = workbook.worksheets[0]
    rows = [["" if c is None else str(c).strip() for c in row]
            for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not rows:
        raise ValidationFailed.one(field, "文件为空", "the first row must be the header")
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(row)]
