"""Reconciliation with the national platform 全国会计人员统一服务管理平台 (and the
other ways credits arrive from outside: online learning 网络学习, continuing-education
bases 继续教育基地).

Import: rows of an export file, matched to registered professionals by ID number.
Each row becomes one credit record whose `source_ref` is "<ID number>:<record no.>",
unique per source, so importing the same file twice adds nothing. Good rows are
written even when other rows are bad (reconciliation is incremental: the rest can
be fixed and the file imported again); every row not added is reported with why.
A file is checked whole first, as it streams (`check_rows`, outside any transaction:
a million rows are never a list in memory), then its good rows are written in one
transaction (`write_checked`): all of them, or — interrupted, or refused — none.

Export: Henan's own records (online, declaration, base) of a year in the same
shape, for the national platform. Those records are counted here already, so an
import refuses hnce's own export — its header, or any record number of its form
(`HN:declaration:42`) — whole, before anything is written (`refuse_own_export`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from hnce_cli import clock
from hnce_cli.errors import ValidationFailed
from hnce_cli.masking import mask_id_number
from hnce_cli.schemas import CreditExportPage, CreditExportRow, SyncImportResult, SyncProblem
from hnce_cli.schemas.sync import EXPORT_COLUMNS
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.store import Db, in_list, json_list
from hnce_cli.terms import IMPORTED_SOURCES as SOURCES
from hnce_cli.terms import SUBJECTS
from hnce_cli.text import is_ascii_digits

CHUNK = 5000
MAX_CREDITS = 200  # one record; the biggest standard item (an exam subject) is 90
RECORD_MAX = 45  # "<18-char ID>:<record>" fits source_ref (64)
PROBLEMS_LISTED = 10_000  # per kind; counts are always complete

# Columns: the national platform's Chinese headers, and English names for scripts.
COLUMNS = {
    "身份证号": "id_number", "证件号码": "id_number", "id_number": "id_number",
    "姓名": "name", "name": "name",
    "年度": "year", "year": "year",
    "科目类型": "subject", "科目": "subject", "subject": "subject",
    "学时": "credits", "学分": "credits", "credits": "credits",
    "记录编号": "record", "课程/记录编号": "record", "课程编号": "record", "record": "record",
    "完成日期": "date", "date": "date",
}
REQUIRED = {"id_number": "身份证号", "year": "年度", "subject": "科目类型", "credits": "学时", "record": "记录编号"}
# 记录编号 as `export_page` writes Henan's own records: HN:<source>:<reference>.
OWN_RECORD = re.compile(r"HN:(?:online|declaration|base):")
_NOT_OURS_FIX = ("import the national platform's own export (or an online institution's, a base's), not a file "
                 "hnce sync export wrote")
# 科目类型 as exports write it: the code, the platform's word (terms.SUBJECTS) or its short form.
SUBJECT_WORDS = {**{code: code for code in SUBJECTS}, **{label: code for code, label in SUBJECTS.items()},
                 **{label.removesuffix("科目"): code for code, label in SUBJECTS.items()}}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _year(value: str) -> int:
    """A year cell in ASCII digits (a spreadsheet's 2025.0 too): `int` would also read ２０２５
    and 2_025, which no export writes."""
    digits = value[:-2] if value.endswith(".0") else value
    if not is_ascii_digits(digits):
        raise ValueError(value)
    return int(digits)


def _credits(value: str) -> float:
    """A credits cell as a decimal in ASCII digits (`float` would also read １.５, 1_0 and nan)."""
    if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", value.strip()):
        raise ValueError(value)
    return float(value.strip())


def _date(value: str) -> date:
    text = value.strip().replace("/", "-").replace(".", "-")
    if re.fullmatch(r"[0-9]{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return date.fromisoformat(text[:10])


def may_import(db: Db, actor: Actor, source: str = "national") -> None:
    """Who may import, and from where: asked before a file is read."""
    actor.require("system_admin")
    if source not in SOURCES:
        raise ValidationFailed.one("source", f"没有这种来源：{source}", "national | online | base")


class Checked:
    """One import's rows checked one by one, before any transaction. The good ones wait in a
    private scratch SQLite database on disk (deleted when closed) — a million rows are not
    held in memory, and the duplicates within the file are found there; the bad ones are
    counted, and listed up to PROBLEMS_LISTED of a kind."""

    def __init__(self, source: str, first_row: int) -> None:
        import sqlite3

        self.source, self.first_row, self.last_row, self.rows = source, first_row, first_row - 1, 0
        self.problems: list[SyncProblem] = []
        self.counts = {"added": 0, "already_imported": 0, "duplicate_in_file": 0, "unknown_id": 0, "bad": 0}
        self.scratch = sqlite3.connect("")  # "": SQLite's own temporary file, gone when closed
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16384"):
            self.scratch.execute(f"PRAGMA {pragma}")
        self.scratch.execute("CREATE TABLE good (row INTEGER PRIMARY KEY, id_number TEXT, name TEXT, year INTEGER, "
                             "subject TEXT, credits REAL, ref TEXT)")

    def problem(self, row_no: int, field: str, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= PROBLEMS_LISTED:
            self.problems.append(SyncProblem(row=row_no, field=field, kind=kind, message=message))

    def keep(self, good: list[tuple[int, str, str, int, str, float, str]]) -> None:
        self.scratch.executemany("INSERT INTO good VALUES (?, ?, ?, ?, ?, ?, ?)", good)

    def drop_duplicates(self) -> None:
        """A row with the ID number and 记录编号 of an earlier row is reported and left out."""
        self.scratch.execute("CREATE INDEX good_ref ON good (ref, row)")
        later = ("SELECT g.row, f.first FROM good g JOIN (SELECT ref, MIN(row) AS first FROM good GROUP BY ref "
                 "HAVING COUNT(*) > 1) f ON f.ref = g.ref WHERE g.row > f.first")
        for row_no, first in self.scratch.execute(later + " ORDER BY g.row").fetchall():
            self.problem(row_no, "记录编号", "duplicate_in_file", f"与第 {first} 行重复（同一身份证号和记录编号）")
        if self.counts["duplicate_in_file"]:
            self.scratch.execute(f"DELETE FROM good WHERE row IN (SELECT row FROM ({later}))")

    def chunks(self, size: int) -> Iterator[list[tuple[int, str, str, int, str, float, str]]]:
        """The good rows in file order, `size` at a time."""
        after = self.first_row - 1
        while chunk := self.scratch.execute("SELECT * FROM good WHERE row > ? ORDER BY row LIMIT ?",
                                            (after, size)).fetchall():
            yield chunk
            after = chunk[-1][0]

    def close(self) -> None:
        self.scratch.close()


def check_rows(rows: Iterable[dict[str, Any]], source: str = "national", first_row: int = 2) -> Checked:
    """Every row of an import checked as it is read (`rows` may stream a million from a file or
    an upload; an empty dict is a blank row, which keeps its number): field by field, then
    against the file's earlier rows. What makes the whole file unusable — no data rows, a
    required column missing, a row the reader cannot read — raises, and nothing is written."""
    checked = Checked(source, first_row)
    try:
        _check(checked, rows)
    except BaseException:
        checked.close()
        raise
    return checked


def _check(checked: Checked, rows: Iterable[dict[str, Any]]) -> None:
    today = clock.today()
    problem, first_row = checked.problem, checked.first_row
    good: list[tuple[int, str, str, int, str, float, str]] = []
    header_checked = False
    for index, raw in enumerate(rows):
        row_no = first_row + index
        if not raw:
            continue  # a blank row
        if not header_checked:
            _check_columns(raw)
            refuse_own_export(raw)
            header_checked = True
        checked.rows, checked.last_row = checked.rows + 1, row_no
        row = {COLUMNS[str(k).strip()]: _text(v) for k, v in raw.items() if str(k).strip() in COLUMNS}
        bad: list[tuple[str, str]] = []
        number = row.get("id_number", "").upper()
        if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
            bad.append(("身份证号", f"身份证号格式不对：{number or '（空）'}"))
        year = None
        try:
            year = _year(row.get("year", ""))
            if not 2000 <= year <= today.year:
                bad.append(("年度", f"年度 {year} 不在 2000–{today.year} 内"))
                year = None
        except ValueError:
            bad.append(("年度", f"年度格式不对：{row.get('year') or '（空）'}"))
        subject = SUBJECT_WORDS.get(row.get("subject", ""))
        if subject is None:
            bad.append(("科目类型", f"科目类型应为 专业科目 或 公需科目：{row.get('subject') or '（空）'}"))
        credits = None
        try:
            credits = _credits(row.get("credits", ""))
            if not 0 < credits <= MAX_CREDITS or round(credits, 2) != credits:
                bad.append(("学时", f"学时 {row.get('credits')} 须大于 0、不超过 {MAX_CREDITS}，最多两位小数"))
        except ValueError:
            bad.append(("学时", f"学时格式不对：{row.get('credits') or '（空）'}"))
        record = row.get("record", "")
        if OWN_RECORD.match(record):
            refuse_own_export(raw, row_no, record)
        if not record or len(record) > RECORD_MAX or any(ord(c) < 32 for c in record):
            bad.append(("记录编号", f"记录编号须为 1–{RECORD_MAX} 个字符：{record or '（空）'}"))
        if row.get("date"):
            try:
                done = _date(row["date"])
                if year is not None and done.year != year:
                    bad.append(("完成日期", f"完成日期 {done} 不在 {year} 年度内（学时仅当年有效）"))
                elif done > today:
                    bad.append(("完成日期", f"完成日期 {done} 晚于今天"))
            except ValueError:
                bad.append(("完成日期", f"完成日期格式不对：{row['date']}（应为 YYYY-MM-DD）"))
        if bad:
            for field, message in bad:
                problem(row_no, field, "bad", message)
            continue
        good.append((row_no, number, row.get("name", ""), year, subject, credits, f"{number}:{record}"))
        if len(good) == CHUNK:
            checked.keep(good)
            good.clear()
    checked.keep(good)
    if not checked.rows:
        raise ValidationFailed.one("file", "文件中没有数据行", "the first row is the header, data below it")
    checked.drop_duplicates()


def refuse_own_export(row: dict[str, Any], row_no: int | None = None, record: str | None = None) -> None:
    """Refuse hnce's own `sync export` as a whole file: its records are Henan's own (online
    learning, approved declarations, bases), counted here already, and importing them as
    national credits would count every one twice. Known by its header (exactly the export's
    columns, 来源 included) or, in a file re-saved with other columns, by a record number of
    the export's form (HN:declaration:42)."""
    if row_no is None:
        if {str(k).strip() for k in row} != set(EXPORT_COLUMNS):
            return
        message = ("这是河南平台用 hnce sync export 导出的文件（列与导出格式相同，含「来源」列），其中的学时已在"
                   "河南平台计入，不能再导入 (this is hnce's own sync export: its credits are counted here already)")
        raise ValidationFailed.one("file", message, _NOT_OURS_FIX)
    message = (f"记录编号 {record} 是河南平台自己导出的记录（hnce sync export 的 HN:… 编号），这些学时已在河南平台"
               "计入，不能再导入；整个文件未导入 (a record of hnce's own sync export: counted here already; "
               "nothing was imported)")
    raise ValidationFailed.one(f"row {row_no}: 记录编号", message, _NOT_OURS_FIX)


def _check_columns(row: dict[str, Any]) -> None:
    headers = {COLUMNS.get(str(k).strip()) for k in row}
    missing = [label for key, label in REQUIRED.items() if key not in headers]
    if missing:
        raise ValidationFailed.one("file", "缺少列：" + "、".join(missing),
                                   "columns: 身份证号, 姓名, 年度, 科目类型, 学时, 记录编号, 完成日期 "
                                   "(see docs/sync.md)")


def write_checked(db: Db, actor: Actor, checked: Checked) -> SyncImportResult:
    """Add the checked rows as credit records, all in this one transaction; report unknown ID
    numbers, names that do not match and records imported before."""
    actor.require("system_admin")
    source, problem = checked.source, checked.problem
    now = clock.now()
    added, credits = 0, 0.0
    for chunk in checked.chunks(CHUNK):
        numbers = sorted({number for _, number, *_ in chunk})
        people = {n: (pid, name) for pid, n, name in db.rows(
            f"SELECT p.id, p.id_number, p.name FROM professional p WHERE {in_list(db, 'p.id_number', 'numbers')}",
            numbers=json_list(numbers))}
        existing = set(db.column(f"SELECT c.source_ref FROM credit_record c WHERE c.source = :source AND "
                                 f"{in_list(db, 'c.source_ref', 'refs')}", source=source,
                                 refs=json_list(sorted(ref for *_, ref in chunk))))
        new: list[tuple[int, str, int, str, float, str]] = []
        for row_no, number, name, year, subject, amount, ref in chunk:
            person = people.get(number)
            if person is None:
                problem(row_no, "身份证号", "unknown_id",
                        f"{mask_id_number(number)} 未在河南平台注册（请确认两个平台的身份证号一致）")
                continue
            if name and name != person[1]:
                problem(row_no, "姓名", "bad", f"姓名 {name} 与身份证号不符（河南平台登记为 {person[1]}）")
                continue
            if ref in existing:
                problem(row_no, "记录编号", "already_imported", "此记录已导入，未重复计入")
                continue
            new.append((person[0], number, year, subject, amount, ref))
        _insert_ignoring_duplicates(db, source, now, new)
        added += len(new)
        credits += sum(item[4] for item in new)
    counts = {**checked.counts, "added": added}
    audit.record(db, actor, "sync.import", "credit_record", f"{source}:{checked.first_row}-{checked.last_row}",
                 None, {"source": source, "rows": checked.rows, **counts, "credits": credits})
    problems = sorted(checked.problems, key=lambda p: p.row)
    # Partial when a row needs fixing; a duplicate or an earlier import is no failure.
    failed = counts["bad"] + counts["unknown_id"]
    return SyncImportResult(source=source, rows=checked.rows, added=added, credits=round(credits, 2),
                            counts=counts, failed=failed, problems=problems)


# The new credit records as read from one JSON parameter (rows of the tuples in this order).
_NEW_RECORDS = (("professional_id", "BIGINT"), ("id_number", "TEXT"), ("year", "INTEGER"), ("subject", "TEXT"),
                ("credits", "DOUBLE PRECISION"), ("source_ref", "TEXT"))


def _insert_ignoring_duplicates(db: Db, source: str, at: datetime,
                                rows: list[tuple[int, str, int, str, float, str]]) -> None:
    """Insert credit records, CHUNK rows a statement (one JSON parameter each); one that a
    concurrent import added meanwhile is skipped (the unique (source, source_ref) keeps it
    counted once). `WHERE true`: SQLite reads an INSERT … SELECT's ON CONFLICT only after one."""
    sql = ("INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
           "created_at) SELECT n.professional_id, n.id_number, n.year, n.subject, n.credits, :source, n.source_ref, "
           f":at FROM {db.json_table(_NEW_RECORDS, 'rows')} AS n WHERE true "
           "ON CONFLICT (source, source_ref) DO NOTHING")
    for i in range(0, len(rows), CHUNK):
        db.execute(sql, source=source, at=at, rows=json_list(rows[i:i + CHUNK]))


def _local_date(at: datetime) -> date:
    """A stored time (UTC; a naive one is UTC too) as its date in Beijing."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(clock.CHINA_TZ).date()


def export_page(db: Db, actor: Actor, year: int, after: int | None, limit: int) -> CreditExportPage:
    """Henan's own records of a year (online, declaration, base), by record id, one page."""
    actor.require("system_admin")
    limit = max(1, min(limit, 50_000))
    params: dict[str, Any] = {"year": year, "limit": limit}
    later = ""
    if after is not None:
        later, params["after"] = " AND c.id > :after", after
    rows = []
    for rid, number, name, y, subject, credits, source, ref, created in db.rows(
            "SELECT c.id, c.id_number, p.name, c.year, c.subject, c.credits, c.source, c.source_ref, c.created_at "
            "FROM credit_record c JOIN professional p ON p.id = c.professional_id "
            f"WHERE c.year = :year AND c.source != 'national'{later} ORDER BY c.id LIMIT :limit", **params):
        rows.append(CreditExportRow.model_construct(
            id=rid, id_number=number, name=name, year=y, subject=subject, credits=float(credits), source=source,
            record=f"HN:{ref}" if source == "declaration" else f"HN:{source}:{ref.split(':', 1)[-1]}",
            date=_local_date(created)))
    return CreditExportPage(year=year, rows=rows, next_after=rows[-1].id if len(rows) == limit else None)
