"""An import's rows as lines of JSON: how `hnce sync import` sends a file of a million rows
to `hnce serve` in one streamed request (POST /api/v1/sync/import/stream), and how the
server reads it back from the copy it spooled to disk — neither side holds the rows.

    {"columns": ["身份证号", "姓名", …]}     the keys of the rows that follow (again if they change)
    ["410105…", "王测试", "2025", …]         a row: its values in the columns' order
    []                                        a blank row: it keeps its number in the file
    {"end": 1000000}                          the last line: how many rows were sent

A body without its last line, or with a count that does not match (a client stopped half
way, a proxy cut it short), is refused whole: an import is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from hnce_cli.errors import ValidationFailed

MEDIA_TYPE = "application/x-ndjson"
MAX_BYTES = 1 << 30  # what the server spools of one upload (1 GiB: some ten million rows)
_LINES = 1000  # lines a piece of the request body
_VALUES = (str, int, float, type(None))


def encode(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The request body, a piece at a time, as `rows` is read."""
    columns: list[str] | None = None
    lines: list[str] = []
    count = 0
    for row in rows:
        if row and list(row) != columns:
            columns = list(row)
            lines.append(json.dumps({"columns": columns}, ensure_ascii=False))
        lines.append(json.dumps(list(row.values()), ensure_ascii=False))
        count += 1
        if len(lines) >= _LINES:
            yield ("\n".join(lines) + "\n").encode()
            lines.clear()
    lines.append(json.dumps({"end": count}))
    yield ("\n".join(lines) + "\n").encode()


def _refused(line: int, message: str) -> ValidationFailed:
    return ValidationFailed.one("body", f"上传内容第 {line} 行有误 (line {line} of the upload): {message}",
                                "send the rows as docs/sync.md describes (hnce sync import does)")


def decode(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The rows of a body (an empty dict for a blank row); raises when a line is not what
    `encode` writes, or when the body ends without its last line."""
    columns: list[str] | None = None
    count = 0
    source = iter(lines)
    for number, raw in enumerate(source, 1):
        try:
            item = json.loads(raw)
        except ValueError as exc:
            raise _refused(number, f"不是 JSON (not JSON: {exc})") from None
        if isinstance(item, list):
            if item and columns is None:
                raise _refused(number, '行之前没有 {"columns": …} (a row before its columns)')
            if len(item) > len(columns or ()) or not all(isinstance(v, _VALUES) for v in item):
                raise _refused(number, "值的个数或类型不对 (values do not match the columns)")
            count += 1
            yield dict(zip(columns or (), item, strict=False))
        elif isinstance(item, dict) and set(item) == {"columns"} and isinstance(item["columns"], list) \
                and all(isinstance(c, str) for c in item["columns"]):
            columns = item["columns"]
        elif isinstance(item, dict) and set(item) == {"end"}:
            if item["end"] != count:
                raise _refused(number, f"结束行说有 {item['end']} 行，实际收到 {count} 行 (row count does not match)")
            if any(line.strip() for line in source):
                raise _refused(number + 1, "结束行之后还有内容 (data after the last line)")
            return
        else:
            raise _refused(number, "应为一行数据或 columns / end (a row, columns or end)")
    raise ValidationFailed.one("body", "上传不完整：没有结束行 (the upload was cut short); 未写入任何数据",
                               "send the file again")
