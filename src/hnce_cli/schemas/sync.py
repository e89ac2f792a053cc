"""National-platform reconciliation 学分同步: imports and exports."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel

# --- year rules, annual completion 年度完成情况, national-platform sync ----------------------

# The columns of `hnce sync export`, in order: the import's shape plus 来源. A file with
# exactly these columns is hnce's own export, which `hnce sync import` refuses.
EXPORT_COLUMNS = ("身份证号", "姓名", "年度", "科目类型", "学时", "记录编号", "完成日期", "来源")


class SyncImportRequest(BaseModel):
    """Rows of a national-platform (or online / base) export, keyed by header (docs/sync.md)."""

    source: Literal["national", "online", "base"] = "national"
    first_row: int = Field(default=2, ge=1, description="file row number of rows[0] (header is row 1)")
    rows: list[dict[str, str | int | float | None]]


class SyncProblem(BaseModel):
    row: int
    field: str
    kind: Literal["bad", "unknown_id", "duplicate_in_file", "already_imported"]
    message: str


class SyncImportResult(BaseModel):
    source: str
    rows: int
    added: int
    credits: float = Field(description="credits added")
    counts: dict[str, int] = Field(description="added, already_imported, duplicate_in_file, unknown_id, bad")
    failed: int = Field(default=0, description="rows to fix and import again (bad, unknown_id): the import "
                                               "was partial (exit 7); duplicates are not failures")
    problems: list[SyncProblem]


class CreditExportRow(BaseModel):
    """One credit record in the national platform's import shape (docs/sync.md)."""

    id: int
    id_number: str
    name: str
    year: int
    subject: str
    credits: float
    source: str
    record: str
    date: date


class CreditExportPage(BaseModel):
    year: int
    rows: list[CreditExportRow]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")
